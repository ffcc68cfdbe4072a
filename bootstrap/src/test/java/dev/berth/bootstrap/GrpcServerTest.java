package dev.berth.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.ListenableFuture;
import dev.berth.api.NonBlockingService;
import dev.berth.bootstrap.h2.H2Server;
import dev.berth.api.services.namespaces.v1.GetNamespaceRequest;
import dev.berth.api.services.namespaces.v1.GetNamespaceResponse;
import dev.berth.api.services.namespaces.v1.ListNamespacesRequest;
import dev.berth.api.services.namespaces.v1.ListNamespacesResponse;
import dev.berth.api.services.namespaces.v1.Namespace;
import dev.berth.api.services.namespaces.v1.NamespacesGrpc;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the server runs calls: methods declared non-blocking on the transport; the rest on the thread that read them, or on request threads. */
class GrpcServerTest {
    @TempDir
    Path dir;

    /**
     * Answers each call with the name of the thread that ran it, and whether that thread is virtual. A list
     * (a blocking method) first waits until {@code gets} more gets have been answered, or until a list has
     * run on each of {@code lists} threads at once, whichever the test asks for.
     */
    private static final class ThreadReporter implements NamespacesGrpc.AsyncService, BindableService, NonBlockingService {
        final CountDownLatch gets;
        final CountDownLatch lists;

        ThreadReporter(int gets, int lists) {
            this.gets = new CountDownLatch(gets);
            this.lists = new CountDownLatch(lists);
        }

        @Override
        public ServerServiceDefinition bindService() {
            return NamespacesGrpc.bindService(this);
        }

        @Override
        public Set<String> nonBlockingMethods() {
            return Set.of(NamespacesGrpc.getGetMethod().getFullMethodName());
        }

        private static Namespace current() {
            Thread thread = Thread.currentThread();
            return Namespace.newBuilder().setName(thread.getName()).putLabels("virtual", String.valueOf(thread.isVirtual())).build();
        }

        @Override
        public void get(GetNamespaceRequest request, StreamObserver<GetNamespaceResponse> observer) {
            observer.onNext(GetNamespaceResponse.newBuilder().setNamespace(current()).build());
            observer.onCompleted();
            gets.countDown();
        }

        @Override
        public void list(ListNamespacesRequest request, StreamObserver<ListNamespacesResponse> observer) {
            lists.countDown();
            boolean released;
            try {
                released = gets.await(10, TimeUnit.SECONDS) && lists.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                released = false;
            }
            observer.onNext(ListNamespacesResponse.newBuilder()
                    .addNamespaces(current().toBuilder().putLabels("released", String.valueOf(released))).build());
            observer.onCompleted();
        }
    }

    @Test
    void callsBeyondThePlatformRequestThreadsGetVirtualThreads() throws Exception {
        ExecutorService threads = GrpcServer.requestThreads();
        CountDownLatch busy = new CountDownLatch(GrpcServer.PLATFORM_REQUEST_THREADS);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger virtual = new AtomicInteger();
        try {
            for (int i = 0; i < GrpcServer.PLATFORM_REQUEST_THREADS; i++) {
                threads.execute(() -> {
                    if (Thread.currentThread().isVirtual()) {
                        virtual.incrementAndGet();
                    }
                    busy.countDown();
                    awaitQuietly(release);
                });
            }
            assertTrue(busy.await(10, TimeUnit.SECONDS), "every platform thread took a call");
            assertEquals(0, virtual.get(), "the first calls run on platform threads");
            CompletableFuture<Boolean> overflow = new CompletableFuture<>();
            threads.execute(() -> overflow.complete(Thread.currentThread().isVirtual()));
            assertTrue(overflow.get(10, TimeUnit.SECONDS), "a call beyond them runs on a virtual thread");
        } finally {
            release.countDown();
            threads.shutdown();
            assertTrue(threads.awaitTermination(10, TimeUnit.SECONDS));
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private ManagedChannel channel(Path socket, EpollEventLoopGroup loop) {
        return NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(loop)
                .usePlaintext()
                .build();
    }

    @Test
    void declaredMethodsRunOnTheTransportAndOthersOnTheReaderWhileAnotherReadsOn() throws Exception {
        Path socket = dir.resolve("grpc.sock");
        DaemonConfig.Grpc config = new DaemonConfig.Grpc(socket.toString(), 0, 0, 16 << 20, 16 << 20, 0);
        EpollEventLoopGroup clientLoop = new EpollEventLoopGroup(1);
        try (GrpcServer server = GrpcServer.start(config, List.of(new ThreadReporter(1, 1)))) {
            ManagedChannel channel = channel(socket, clientLoop);
            try {
                // the list blocks until a get on the same connection is answered: the connection is read on
                ListenableFuture<ListNamespacesResponse> list = NamespacesGrpc.newFutureStub(channel)
                        .list(ListNamespacesRequest.getDefaultInstance());
                Thread.sleep(100);
                NamespacesGrpc.NamespacesBlockingStub stub = NamespacesGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(10, TimeUnit.SECONDS);
                Namespace get = stub.get(GetNamespaceRequest.newBuilder().setName("x").build()).getNamespace();
                assertEquals("false", get.getLabelsOrThrow("virtual"), get.toString());
                assertTrue(get.getName().startsWith("grpc-connection-"), get.getName());

                Namespace listed = list.get(10, TimeUnit.SECONDS).getNamespaces(0);
                assertEquals("true", listed.getLabelsOrThrow("released"), listed.toString());
                assertEquals("false", listed.getLabelsOrThrow("virtual"), listed.toString());
                assertTrue(listed.getName().startsWith("grpc-connection-"), listed.getName());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        } finally {
            clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    @Test
    void blockingCallsBeyondThoseOnReadersGoToRequestThreads() throws Exception {
        Path socket = dir.resolve("grpc.sock");
        DaemonConfig.Grpc config = new DaemonConfig.Grpc(socket.toString(), 0, 0, 16 << 20, 16 << 20, 0);
        EpollEventLoopGroup clientLoop = new EpollEventLoopGroup(1);
        int calls = H2Server.MAX_CALLS_ON_READERS + 3;
        List<ManagedChannel> channels = new ArrayList<>();
        try (GrpcServer server = GrpcServer.start(config, List.of(new ThreadReporter(0, calls)))) {
            List<ListenableFuture<ListNamespacesResponse>> lists = new ArrayList<>();
            for (int i = 0; i < calls; i++) {
                ManagedChannel channel = channel(socket, clientLoop);
                channels.add(channel);
                lists.add(NamespacesGrpc.newFutureStub(channel).list(ListNamespacesRequest.getDefaultInstance()));
            }
            Map<String, Integer> byPool = new TreeMap<>();
            for (ListenableFuture<ListNamespacesResponse> list : lists) {
                Namespace listed = list.get(20, TimeUnit.SECONDS).getNamespaces(0);
                assertEquals("true", listed.getLabelsOrThrow("released"), "all ran at once: " + listed);
                byPool.merge(listed.getName().replaceAll("-?[0-9]+$", ""), 1, Integer::sum);
            }
            assertEquals(Map.of("grpc-connection", H2Server.MAX_CALLS_ON_READERS, "grpc-call", 3), byPool);
        } finally {
            for (ManagedChannel channel : channels) {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
