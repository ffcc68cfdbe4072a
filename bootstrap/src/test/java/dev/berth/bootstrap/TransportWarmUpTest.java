package dev.berth.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Empty;
import dev.berth.api.services.namespaces.v1.ListNamespacesRequest;
import dev.berth.api.services.namespaces.v1.ListNamespacesResponse;
import dev.berth.api.services.namespaces.v1.Namespace;
import dev.berth.api.services.namespaces.v1.NamespacesGrpc;
import dev.berth.api.services.version.v1.VersionGrpc;
import dev.berth.api.services.version.v1.VersionResponse;
import dev.berth.bootstrap.h2.TransportWarmUp;
import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The warm-up's hand-written HTTP/2 client against the daemon's real gRPC server. */
class TransportWarmUpTest {
    @TempDir
    Path dir;

    /** Counts its calls; the version call waits on {@code gate} first. */
    private static final class Version implements VersionGrpc.AsyncService, BindableService {
        final AtomicInteger calls = new AtomicInteger();
        final CountDownLatch called = new CountDownLatch(1);
        final CountDownLatch gate;

        Version(CountDownLatch gate) {
            this.gate = gate;
        }

        @Override
        public ServerServiceDefinition bindService() {
            return VersionGrpc.bindService(this);
        }

        @Override
        public void version(Empty request, StreamObserver<VersionResponse> observer) {
            calls.incrementAndGet();
            called.countDown();
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            observer.onNext(VersionResponse.newBuilder().setVersion("test").setRevision("r").build());
            observer.onCompleted();
        }
    }

    /** Counts its calls; lists one namespace, or fails each list when {@code fail}. */
    private static final class Namespaces implements NamespacesGrpc.AsyncService, BindableService {
        final AtomicInteger calls = new AtomicInteger();
        final boolean fail;

        Namespaces(boolean fail) {
            this.fail = fail;
        }

        @Override
        public ServerServiceDefinition bindService() {
            return NamespacesGrpc.bindService(this);
        }

        @Override
        public void list(ListNamespacesRequest request, StreamObserver<ListNamespacesResponse> observer) {
            calls.incrementAndGet();
            if (fail) {
                observer.onError(Status.INTERNAL.withDescription("listing failed").asRuntimeException());
                return;
            }
            observer.onNext(ListNamespacesResponse.newBuilder().addNamespaces(Namespace.newBuilder().setName("default")).build());
            observer.onCompleted();
        }
    }

    private GrpcServer serve(BindableService... services) throws Exception {
        Path socket = dir.resolve("grpc.sock");
        DaemonConfig.Grpc config = new DaemonConfig.Grpc(socket.toString(), -1, -1, 16 << 20, 16 << 20, 0);
        return GrpcServer.start(config, List.of(services));
    }

    @Test
    void eachConnectionMakesBothCallsAndTheWarmUpEndsWithTheCount() throws Exception {
        Version version = new Version(new CountDownLatch(0));
        Namespaces namespaces = new Namespaces(false);
        try (GrpcServer server = serve(version, namespaces);
                TransportWarmUp warmUp = TransportWarmUp.start(server.socket(), 40)) {
            assertEquals(40, warmUp.done().get(60, TimeUnit.SECONDS));
            assertEquals(40, version.calls.get());
            assertEquals(40, namespaces.calls.get());
        }
    }

    @Test
    void aFailedCallStopsTheWarmUpAndSaysWhich() throws Exception {
        Version version = new Version(new CountDownLatch(0));
        Namespaces namespaces = new Namespaces(true);
        try (GrpcServer server = serve(version, namespaces);
                TransportWarmUp warmUp = TransportWarmUp.start(server.socket(), 40)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> warmUp.done().get(60, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains(TransportWarmUp.LIST_NAMESPACES), e.getCause().toString());
            assertEquals(1, version.calls.get(), "no connection after the failed one");
            assertEquals(1, namespaces.calls.get());
        }
    }

    @Test
    void aMethodTheServerDoesNotHaveFailsTheWarmUp() throws Exception {
        Version version = new Version(new CountDownLatch(0));
        try (GrpcServer server = serve(version);
                TransportWarmUp warmUp = TransportWarmUp.start(server.socket(), 40)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> warmUp.done().get(60, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains(TransportWarmUp.LIST_NAMESPACES), e.getCause().toString());
            assertEquals(1, version.calls.get());
        }
    }

    @Test
    void closingStopsTheWarmUpDuringACall() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        Version version = new Version(gate);
        try (GrpcServer server = serve(version, new Namespaces(false))) {
            TransportWarmUp warmUp = TransportWarmUp.start(server.socket(), 1000);
            try {
                assertTrue(version.called.await(30, TimeUnit.SECONDS), "the first call arrives");
                warmUp.close();
                assertEquals(0, warmUp.done().get(30, TimeUnit.SECONDS), "stopped with no connection completed");
            } finally {
                gate.countDown();
            }
            assertEquals(1, version.calls.get(), "no call after the close");
        }
    }

    @Test
    void noConnectionsIsDoneAtOnce() throws Exception {
        TransportWarmUp warmUp = TransportWarmUp.start(dir.resolve("nothing-listens-here"), 0);
        assertEquals(0, warmUp.done().getNow(-1));
        assertThrows(IllegalArgumentException.class, () -> TransportWarmUp.start(dir.resolve("x"), -1));
    }
}
