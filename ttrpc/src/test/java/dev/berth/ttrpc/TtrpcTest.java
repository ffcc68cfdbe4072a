package dev.berth.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.Empty;
import com.google.protobuf.Int32Value;
import com.google.protobuf.StringValue;
import com.google.rpc.Code;
import dev.berth.plugin.CanceledException;
import dev.berth.plugin.DeadlineExceededException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.UnavailableException;
import dev.berth.plugin.UnimplementedException;
import dev.berth.ttrpc.wire.Request;
import dev.berth.ttrpc.wire.Response;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TtrpcTest {

    private static final String SERVICE = "berth.test.v1.Echo";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Path socket;
    private TtrpcServer server;
    private TtrpcClient client;
    private final CountDownLatch released = new CountDownLatch(1);
    private final CountDownLatch entered = new CountDownLatch(1);
    private final AtomicReference<Boolean> interrupted = new AtomicReference<>();

    @BeforeEach
    void start() throws IOException {
        socket = dir.resolve("t.sock");
        server = new TtrpcServer()
                .register(SERVICE, "Echo", BytesValue.parser(), (request, context) -> request)
                .register(SERVICE, "Metadata", Empty.parser(), (request, context) -> StringValue.of(
                        context.service() + "/" + context.method() + " " + context.metadata()
                                + " deadline=" + context.deadline().isPresent()))
                .register(SERVICE, "Sleep", Int32Value.parser(), (request, context) -> {
                    Thread.sleep(request.getValue());
                    return request;
                })
                .register(SERVICE, "Block", Empty.parser(), (request, context) -> {
                    entered.countDown();
                    try {
                        released.await();
                    } catch (InterruptedException e) {
                        interrupted.set(true);
                        throw e;
                    }
                    return request;
                })
                .register(SERVICE, "Fail", StringValue.parser(), (request, context) -> {
                    throw switch (request.getValue()) {
                        case "not-found" -> new NotFoundException("thing x: not found");
                        case "denied" -> new TtrpcException(Code.PERMISSION_DENIED, "no entry");
                        default -> new IllegalStateException("boom");
                    };
                })
                .register(SERVICE, "Huge", Int32Value.parser(), (request, context) ->
                        BytesValue.of(ByteString.copyFrom(new byte[request.getValue()])))
                .serve(socket);
        client = TtrpcClient.connect(socket);
    }

    @AfterEach
    void stop() {
        released.countDown();
        client.close();
        server.close();
    }

    @Test
    void roundTripCarriesPayloadMetadataAndDeadline() {
        BytesValue echoed = client.call(SERVICE, "Echo", BytesValue.of(ByteString.copyFromUtf8("hello")),
                BytesValue.parser(), TIMEOUT);
        assertEquals("hello", echoed.getValue().toStringUtf8());

        StringValue seen = client.call(SERVICE, "Metadata", Empty.getDefaultInstance(), StringValue.parser(),
                TIMEOUT, Map.of("containerd-namespace-ttrpc", List.of("ns1"), "k", List.of("a", "b")));
        assertTrue(seen.getValue().startsWith(SERVICE + "/Metadata {"), seen.getValue());
        assertTrue(seen.getValue().contains("containerd-namespace-ttrpc=[ns1]"), seen.getValue());
        assertTrue(seen.getValue().contains("k=[a, b]"), seen.getValue());
        assertTrue(seen.getValue().endsWith("deadline=true"), seen.getValue());

        StringValue unlimited = client.call(SERVICE, "Metadata", Empty.getDefaultInstance(), StringValue.parser(), null);
        assertEquals(SERVICE + "/Metadata {} deadline=false", unlimited.getValue());
    }

    @Test
    void parallelCallsAreMultiplexedOnOneConnection() throws Exception {
        int calls = 400;
        List<Future<Integer>> results = new ArrayList<>();
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < calls; i++) {
                int value = i;
                results.add(executor.submit(() -> {
                    // answers come back out of order: later calls may sleep less
                    int sleep = ThreadLocalRandom.current().nextInt(20);
                    client.call(SERVICE, "Sleep", Int32Value.of(sleep), Int32Value.parser(), TIMEOUT);
                    BytesValue echoed = client.call(SERVICE, "Echo",
                            BytesValue.of(ByteString.copyFromUtf8("call-" + value)), BytesValue.parser(), TIMEOUT);
                    assertEquals("call-" + value, echoed.getValue().toStringUtf8());
                    return value;
                }));
            }
        }
        for (int i = 0; i < calls; i++) {
            assertEquals(i, results.get(i).get());
        }
    }

    @Test
    void payloadsNearTheLimitPassAndOversizedOnesAreRefused() {
        byte[] large = new byte[FrameChannel.MAX_MESSAGE_LENGTH - 1024];
        ThreadLocalRandom.current().nextBytes(large);
        BytesValue echoed = client.call(SERVICE, "Echo", BytesValue.of(ByteString.copyFrom(large)),
                BytesValue.parser(), TIMEOUT);
        assertEquals(ByteString.copyFrom(large), echoed.getValue());

        TtrpcException tooLarge = assertThrows(TtrpcException.class, () -> client.call(SERVICE, "Echo",
                BytesValue.of(ByteString.copyFrom(new byte[FrameChannel.MAX_MESSAGE_LENGTH])), BytesValue.parser(),
                TIMEOUT));
        assertEquals(Code.RESOURCE_EXHAUSTED, tooLarge.code());

        TtrpcException answerTooLarge = assertThrows(TtrpcException.class, () -> client.call(SERVICE, "Huge",
                Int32Value.of(FrameChannel.MAX_MESSAGE_LENGTH), BytesValue.parser(), TIMEOUT));
        assertEquals(Code.RESOURCE_EXHAUSTED, answerTooLarge.code());

        // the connection survives both refusals
        assertEquals("ok", client.call(SERVICE, "Echo", BytesValue.of(ByteString.copyFromUtf8("ok")),
                BytesValue.parser(), TIMEOUT).getValue().toStringUtf8());
    }

    @Test
    void serverAnswersAnOversizedFrameAndKeepsTheConnection() throws IOException {
        try (SocketChannel raw = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            int length = FrameChannel.MAX_MESSAGE_LENGTH + 1;
            writeFrame(raw, 5, 1, new byte[length]);
            RawFrame refused = readFrame(raw);
            assertEquals(5, refused.streamId());
            assertEquals(2, refused.type());
            Response response = Response.parseFrom(refused.payload());
            assertEquals(Code.RESOURCE_EXHAUSTED_VALUE, response.getStatus().getCode());
            assertEquals("message length 4194305 exceed maximum message size of 4194304",
                    response.getStatus().getMessage());

            writeFrame(raw, 7, 1, Request.newBuilder().setService(SERVICE).setMethod("Echo")
                    .setPayload(BytesValue.of(ByteString.copyFromUtf8("after")).toByteString()).build().toByteArray());
            RawFrame answer = readFrame(raw);
            assertEquals(7, answer.streamId());
            Response ok = Response.parseFrom(answer.payload());
            assertEquals(0, ok.getStatus().getCode());
            assertEquals("after", BytesValue.parseFrom(ok.getPayload()).getValue().toStringUtf8());
        }
    }

    @Test
    void serverRefusesEvenStreamIds() throws IOException {
        try (SocketChannel raw = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            writeFrame(raw, 2, 1, Request.newBuilder().setService(SERVICE).setMethod("Echo").build().toByteArray());
            RawFrame answer = readFrame(raw);
            assertEquals(2, answer.streamId());
            Response response = Response.parseFrom(answer.payload());
            assertEquals(Code.INVALID_ARGUMENT_VALUE, response.getStatus().getCode());
        }
    }

    @Test
    void unknownServiceOrMethodIsUnimplemented() {
        UnimplementedException method = assertThrows(UnimplementedException.class, () -> client.call(SERVICE,
                "Nope", Empty.getDefaultInstance(), Empty.parser(), TIMEOUT));
        assertEquals("method Nope", method.getMessage());
        assertEquals(Code.UNIMPLEMENTED, assertInstanceOf(TtrpcException.class, method.getCause()).code());

        UnimplementedException service = assertThrows(UnimplementedException.class, () -> client.call(
                "berth.test.v1.Other", "Echo", Empty.getDefaultInstance(), Empty.parser(), TIMEOUT));
        assertEquals("service berth.test.v1.Other", service.getMessage());
    }

    @Test
    void handlerFailuresArriveAsStatuses() {
        NotFoundException notFound = assertThrows(NotFoundException.class, () -> client.call(SERVICE, "Fail",
                StringValue.of("not-found"), Empty.parser(), TIMEOUT));
        assertEquals("thing x: not found", notFound.getMessage());

        TtrpcException denied = assertThrows(TtrpcException.class, () -> client.call(SERVICE, "Fail",
                StringValue.of("denied"), Empty.parser(), TIMEOUT));
        assertEquals(Code.PERMISSION_DENIED, denied.code());
        assertEquals("no entry", denied.statusMessage());

        TtrpcException unknown = assertThrows(TtrpcException.class, () -> client.call(SERVICE, "Fail",
                StringValue.of("other"), Empty.parser(), TIMEOUT));
        assertEquals(Code.UNKNOWN, unknown.code());
        assertEquals("boom", unknown.statusMessage());
    }

    @Test
    void clientGivesUpAtItsTimeout() {
        long start = System.nanoTime();
        assertThrows(DeadlineExceededException.class, () -> client.call(SERVICE, "Sleep", Int32Value.of(5_000),
                Int32Value.parser(), Duration.ofMillis(200)));
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3));
        // a late answer to the abandoned stream does not disturb later calls
        assertEquals(1, client.call(SERVICE, "Sleep", Int32Value.of(1), Int32Value.parser(), TIMEOUT).getValue());
    }

    @Test
    void serverEnforcesTheRequestDeadline() throws Exception {
        try (SocketChannel raw = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            writeFrame(raw, 1, 1, Request.newBuilder().setService(SERVICE).setMethod("Block")
                    .setPayload(Empty.getDefaultInstance().toByteString())
                    .setTimeoutNano(Duration.ofMillis(200).toNanos()).build().toByteArray());
            RawFrame answer = readFrame(raw);
            assertEquals(1, answer.streamId());
            assertEquals(Code.DEADLINE_EXCEEDED_VALUE, Response.parseFrom(answer.payload()).getStatus().getCode());
        }
        assertTrue(entered.await(5, TimeUnit.SECONDS));
        for (int i = 0; i < 100 && interrupted.get() == null; i++) {
            Thread.sleep(20);
        }
        assertEquals(Boolean.TRUE, interrupted.get(), "the handler's thread is interrupted at the deadline");
    }

    @Test
    void droppedConnectionFailsPendingAndLaterCalls() throws Exception {
        CountDownLatch closed = new CountDownLatch(1);
        TtrpcClient other = TtrpcClient.connect(socket, closed::countDown);
        CompletableFuture<Empty> pending = CompletableFuture.supplyAsync(() -> other.call(SERVICE, "Block",
                Empty.getDefaultInstance(), Empty.parser(), null), Executors.newVirtualThreadPerTaskExecutor());
        assertTrue(entered.await(5, TimeUnit.SECONDS));

        assertFalse(server.shutdown(Duration.ZERO), "a call was still in flight");

        ExecutionException failure = assertThrows(ExecutionException.class, () -> pending.get(5, TimeUnit.SECONDS));
        assertInstanceOf(UnavailableException.class, failure.getCause());
        assertTrue(closed.await(5, TimeUnit.SECONDS), "onClose ran");
        assertTrue(other.isClosed());
        assertThrows(UnavailableException.class, () -> other.call(SERVICE, "Echo", BytesValue.getDefaultInstance(),
                BytesValue.parser(), TIMEOUT));
        assertFalse(Files.exists(socket), "the socket file is removed");
    }

    @Test
    void closingTheClientFailsItsPendingCalls() throws Exception {
        CompletableFuture<Empty> pending = CompletableFuture.supplyAsync(() -> client.call(SERVICE, "Block",
                Empty.getDefaultInstance(), Empty.parser(), null), Executors.newVirtualThreadPerTaskExecutor());
        assertTrue(entered.await(5, TimeUnit.SECONDS));
        client.close();
        ExecutionException failure = assertThrows(ExecutionException.class, () -> pending.get(5, TimeUnit.SECONDS));
        assertInstanceOf(UnavailableException.class, failure.getCause());
    }

    @Test
    void interruptedCallerIsCanceled() throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread caller = Thread.ofVirtual().start(() -> {
            try {
                client.call(SERVICE, "Block", Empty.getDefaultInstance(), Empty.parser(), null);
            } catch (RuntimeException e) {
                thrown.set(e);
            }
        });
        assertTrue(entered.await(5, TimeUnit.SECONDS));
        caller.interrupt();
        caller.join(5_000);
        assertInstanceOf(CanceledException.class, thrown.get());
    }

    @Test
    void gracefulShutdownLetsCallsInFlightAnswer() throws Exception {
        CompletableFuture<Int32Value> pending = CompletableFuture.supplyAsync(() -> client.call(SERVICE, "Sleep",
                Int32Value.of(300), Int32Value.parser(), TIMEOUT), Executors.newVirtualThreadPerTaskExecutor());
        Thread.sleep(100);
        assertTrue(server.shutdown(Duration.ofSeconds(5)));
        assertEquals(300, pending.get(5, TimeUnit.SECONDS).getValue());
        assertThrows(IOException.class, () -> TtrpcClient.connect(socket));
        assertNull(interrupted.get());
    }

    private record RawFrame(int streamId, int type, byte[] payload) {}

    private static void writeFrame(SocketChannel channel, int streamId, int type, byte[] payload) throws IOException {
        ByteBuffer frame = ByteBuffer.allocate(10 + payload.length)
                .putInt(payload.length).putInt(streamId).put((byte) type).put((byte) 0).put(payload).flip();
        while (frame.hasRemaining()) {
            channel.write(frame);
        }
    }

    private static RawFrame readFrame(SocketChannel channel) throws IOException {
        ByteBuffer header = readFully(channel, 10);
        int length = header.getInt();
        int streamId = header.getInt();
        int type = header.get();
        return new RawFrame(streamId, type, readFully(channel, length).array());
    }

    private static ByteBuffer readFully(SocketChannel channel, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new IOException("closed");
            }
        }
        return buffer.flip();
    }
}
