package dev.berth.bootstrap.h2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transport under grpc-java's own Netty client, as a daemon's clients would use it, and under raw frames
 * for what a well-behaved client never sends.
 */
class H2ServerTest {
    private static final int MAX_MESSAGE = 4 << 20;
    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    private static final MethodDescriptor<byte[], byte[]> ECHO = method("Echo", MethodDescriptor.MethodType.UNARY);
    private static final MethodDescriptor<byte[], byte[]> FAIL = method("Fail", MethodDescriptor.MethodType.UNARY);
    private static final MethodDescriptor<byte[], byte[]> HANG = method("Hang", MethodDescriptor.MethodType.UNARY);
    /** Request: 8 bytes, the count of 1 MiB messages to answer with; each is filled from its index. */
    private static final MethodDescriptor<byte[], byte[]> DOWNLOAD = method("Download", MethodDescriptor.MethodType.SERVER_STREAMING);
    /** Answers with the SHA-256 of every byte received. */
    private static final MethodDescriptor<byte[], byte[]> UPLOAD = method("Upload", MethodDescriptor.MethodType.CLIENT_STREAMING);
    private static final MethodDescriptor<byte[], byte[]> CHAT = method("Chat", MethodDescriptor.MethodType.BIDI_STREAMING);
    /** Answers with the name of the thread it ran on. */
    private static final MethodDescriptor<byte[], byte[]> THREAD = method("Thread", MethodDescriptor.MethodType.UNARY);
    /** Request: 8 bytes, the count of 200-byte messages to answer with, all written at once. */
    private static final MethodDescriptor<byte[], byte[]> LIST = method("List", MethodDescriptor.MethodType.SERVER_STREAMING);
    private static final Metadata.Key<String> TEXT = Metadata.Key.of("x-text", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<byte[]> BINARY = Metadata.Key.of("x-data-bin", Metadata.BINARY_BYTE_MARSHALLER);

    @TempDir
    Path dir;
    private Path socket;
    private Server server;
    private EpollEventLoopGroup clientLoop;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final CompletableFuture<Status> hangEnded = new CompletableFuture<>();
    private final CountDownLatch hanging = new CountDownLatch(1);
    private final ExecutorService requests = Executors.newCachedThreadPool(Thread.ofPlatform().name("request-", 0).factory());

    private static MethodDescriptor<byte[], byte[]> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("test.Bytes", name))
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
    }

    @BeforeEach
    void start() throws IOException {
        socket = dir.resolve("grpc.sock");
        ServerServiceDefinition service = ServerServiceDefinition.builder("test.Bytes")
                .addMethod(ECHO, ServerCalls.asyncUnaryCall((request, observer) -> {
                    observer.onNext(request);
                    observer.onCompleted();
                }))
                .addMethod(FAIL, ServerCalls.asyncUnaryCall((request, observer) -> observer.onError(Status.NOT_FOUND
                        .withDescription(new String(request, StandardCharsets.UTF_8)).asRuntimeException())))
                .addMethod(HANG, ServerCalls.asyncUnaryCall((request, observer) -> {
                    Context.current().addListener(context -> hangEnded.complete(Status.fromThrowable(context.cancellationCause())),
                            Runnable::run);
                    hanging.countDown();
                }))
                .addMethod(DOWNLOAD, ServerCalls.asyncServerStreamingCall((request, observer) -> {
                    long count = ByteBuffer.wrap(request).getLong();
                    for (int i = 0; i < count; i++) {
                        observer.onNext(chunk(i));
                    }
                    observer.onCompleted();
                }))
                .addMethod(THREAD, ServerCalls.asyncUnaryCall((request, observer) -> {
                    observer.onNext(Thread.currentThread().getName().getBytes(StandardCharsets.UTF_8));
                    observer.onCompleted();
                }))
                .addMethod(LIST, ServerCalls.asyncServerStreamingCall((request, observer) -> {
                    long count = ByteBuffer.wrap(request).getLong();
                    for (int i = 0; i < count; i++) {
                        byte[] message = new byte[200];
                        ByteBuffer.wrap(message).putInt(i);
                        observer.onNext(message);
                    }
                    observer.onCompleted();
                }))
                .addMethod(UPLOAD, ServerCalls.asyncClientStreamingCall(observer -> new StreamObserver<byte[]>() {
                    private final MessageDigest digest = sha256();

                    @Override
                    public void onNext(byte[] value) {
                        digest.update(value);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {
                        observer.onNext(digest.digest());
                        observer.onCompleted();
                    }
                }))
                .addMethod(CHAT, ServerCalls.asyncBidiStreamingCall(observer -> new StreamObserver<byte[]>() {
                    @Override
                    public void onNext(byte[] value) {
                        observer.onNext(value);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {
                        observer.onCompleted();
                    }
                }))
                .build();
        server = H2Server.builder(socket, MAX_MESSAGE)
                // as the daemon runs calls: Thread as a blocking method, on the thread that read it or on
                // the request threads; the rest on the thread that reads the connection
                .directExecutor()
                .callExecutor(new io.grpc.ServerCallExecutorSupplier() {
                    @Override
                    public <Q, R> java.util.concurrent.Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
                        return call.getMethodDescriptor().equals(THREAD) ? H2Server.readerFirst(requests) : null;
                    }
                })
                .addService(ServerInterceptors.intercept(service, new EchoMetadata()))
                .build()
                .start();
        clientLoop = new EpollEventLoopGroup(1);
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (ManagedChannel channel : channels) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        requests.shutdownNow();
    }

    /** Sends the request's x-text and x-data-bin back in the response's headers and trailers. */
    private static final class EchoMetadata implements io.grpc.ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            return next.startCall(new io.grpc.ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                @Override
                public void sendHeaders(Metadata responseHeaders) {
                    copy(headers, responseHeaders);
                    super.sendHeaders(responseHeaders);
                }

                @Override
                public void close(Status status, Metadata trailers) {
                    copy(headers, trailers);
                    super.close(status, trailers);
                }
            }, headers);
        }

        private static void copy(Metadata from, Metadata to) {
            if (from.containsKey(TEXT)) {
                to.put(TEXT, from.get(TEXT));
            }
            if (from.containsKey(BINARY)) {
                to.put(BINARY, from.get(BINARY));
            }
        }
    }

    private ManagedChannel channel() {
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(clientLoop)
                .usePlaintext()
                .maxInboundMessageSize(MAX_MESSAGE)
                .build();
        channels.add(channel);
        return channel;
    }

    private static byte[] chunk(int index) {
        byte[] chunk = new byte[1 << 20];
        Arrays.fill(chunk, (byte) index);
        chunk[0] = (byte) (index >>> 8);
        return chunk;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void unaryCallsCarryMessagesAndMetadataBothWays() {
        ManagedChannel channel = channel();
        byte[] binary = {0, 1, (byte) 0xff, '\n', (byte) 0x80};
        Metadata headers = new Metadata();
        headers.put(TEXT, "hello, world");
        headers.put(BINARY, binary);
        AtomicReference<Metadata> responseHeaders = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        byte[] request = new byte[300_000];
        new Random(1).nextBytes(request);
        byte[] response = ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, request);
        assertArrayEquals(request, response);

        io.grpc.Channel intercepted = io.grpc.ClientInterceptors.intercept(channel,
                MetadataUtils.newAttachHeadersInterceptor(headers),
                MetadataUtils.newCaptureMetadataInterceptor(responseHeaders, trailers));
        assertArrayEquals(new byte[0], ClientCalls.blockingUnaryCall(intercepted, ECHO, CallOptions.DEFAULT, new byte[0]));
        assertEquals("hello, world", responseHeaders.get().get(TEXT));
        assertArrayEquals(binary, responseHeaders.get().get(BINARY));
        assertEquals("hello, world", trailers.get().get(TEXT));
        assertArrayEquals(binary, trailers.get().get(BINARY));
    }

    @Test
    void aFailedCallKeepsItsCodeAndDescription() {
        String description = "no such thing: 100% ünïcode\nsecond line";
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(
                channel(), FAIL, CallOptions.DEFAULT, description.getBytes(StandardCharsets.UTF_8)));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertEquals(description, e.getStatus().getDescription());
    }

    @Test
    void anUnknownMethodIsUnimplemented() {
        MethodDescriptor<byte[], byte[]> missing = method("Missing", MethodDescriptor.MethodType.UNARY);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel(), missing, CallOptions.DEFAULT, new byte[1]));
        assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
    }

    @Test
    void aLongResponseStreamPassesTheFlowControlWindows() {
        int count = 48;
        Iterator<byte[]> responses = ClientCalls.blockingServerStreamingCall(channel(), DOWNLOAD, CallOptions.DEFAULT,
                ByteBuffer.allocate(8).putLong(count).array());
        int received = 0;
        while (responses.hasNext()) {
            assertArrayEquals(chunk(received), responses.next(), "message " + received);
            received++;
        }
        assertEquals(count, received);
    }

    @Test
    void manySmallMessagesWrittenAtOnceAllArrive() {
        int count = 20_000;
        Iterator<byte[]> responses = ClientCalls.blockingServerStreamingCall(channel(), LIST, CallOptions.DEFAULT,
                ByteBuffer.allocate(8).putLong(count).array());
        int received = 0;
        while (responses.hasNext()) {
            assertEquals(received, ByteBuffer.wrap(responses.next()).getInt());
            received++;
        }
        assertEquals(count, received);
    }

    @Test
    void aLongRequestStreamPassesTheFlowControlWindows() throws Exception {
        CompletableFuture<byte[]> digest = new CompletableFuture<>();
        StreamObserver<byte[]> requests = ClientCalls.asyncClientStreamingCall(channel().newCall(UPLOAD, CallOptions.DEFAULT),
                observer(digest));
        MessageDigest expected = sha256();
        Random random = new Random(2);
        for (int i = 0; i < 40; i++) {
            byte[] message = new byte[(1 << 20) + random.nextInt(1000)];
            random.nextBytes(message);
            expected.update(message);
            requests.onNext(message);
        }
        requests.onCompleted();
        assertArrayEquals(expected.digest(), digest.get(60, TimeUnit.SECONDS));
    }

    @Test
    void manyCallsRunAtOnceOnOneConnectionAndOnMany() throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(16);
        try {
            ManagedChannel shared = channel();
            List<Future<?>> calls = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                byte[] request = ("call " + i).getBytes(StandardCharsets.UTF_8);
                ManagedChannel channel = i % 4 == 0 ? channel() : shared;
                calls.add(callers.submit(() -> assertArrayEquals(request,
                        ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, request))));
            }
            for (Future<?> call : calls) {
                call.get(60, TimeUnit.SECONDS);
            }
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void aBidirectionalStreamEchoesInOrder() throws Exception {
        List<byte[]> received = new ArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<byte[]> requests = ClientCalls.asyncBidiStreamingCall(channel().newCall(CHAT, CallOptions.DEFAULT),
                new StreamObserver<>() {
                    @Override
                    public void onNext(byte[] value) {
                        synchronized (received) {
                            received.add(value);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
        for (int i = 0; i < 500; i++) {
            requests.onNext(Integer.toString(i).getBytes(StandardCharsets.US_ASCII));
        }
        requests.onCompleted();
        done.get(30, TimeUnit.SECONDS);
        assertEquals(500, received.size());
        for (int i = 0; i < 500; i++) {
            assertEquals(Integer.toString(i), new String(received.get(i), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void aCancelledCallIsCancelledOnTheServer() throws Exception {
        ClientCall<byte[], byte[]> call = channel().newCall(HANG, CallOptions.DEFAULT);
        ClientCalls.futureUnaryCall(call, new byte[1]);
        assertTrue(hanging.await(10, TimeUnit.SECONDS));
        call.cancel("no longer wanted", null);
        assertEquals(Status.Code.CANCELLED, hangEnded.get(10, TimeUnit.SECONDS).getCode());
    }

    @Test
    void aDeadlineEndsTheCallOnBothSides() throws Exception {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(channel(),
                HANG, CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS), new byte[1]));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        // the server's context ends too: by its own timer, or by the client's reset if that comes first
        Status ended = hangEnded.get(10, TimeUnit.SECONDS);
        assertTrue(ended.getCause() instanceof java.util.concurrent.TimeoutException || ended.getCode() == Status.Code.CANCELLED,
                ended.toString());
    }

    @Test
    void aRequestOverTheMessageLimitIsRefused() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(channel(),
                ECHO, CallOptions.DEFAULT, new byte[MAX_MESSAGE + 1]));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        // the connection serves on
        assertArrayEquals(new byte[] {7}, ClientCalls.blockingUnaryCall(channels.getFirst(), ECHO, CallOptions.DEFAULT, new byte[] {7}));
    }

    @Test
    void shutdownLetsRunningCallsFinishAndRefusesNewOnes() throws Exception {
        ManagedChannel channel = channel();
        assertArrayEquals(new byte[] {1}, ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, new byte[] {1}));
        CompletableFuture<byte[]> digest = new CompletableFuture<>();
        StreamObserver<byte[]> upload = ClientCalls.asyncClientStreamingCall(channel.newCall(UPLOAD, CallOptions.DEFAULT),
                observer(digest));
        upload.onNext(new byte[] {1, 2, 3});
        Thread.sleep(200); // the call has reached the server
        server.shutdown();
        upload.onNext(new byte[] {4});
        upload.onCompleted();
        assertArrayEquals(sha256().digest(new byte[] {1, 2, 3, 4}), digest.get(10, TimeUnit.SECONDS));
        assertTrue(server.awaitTermination(10, TimeUnit.SECONDS));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel(), ECHO, CallOptions.DEFAULT, new byte[] {2}));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
    }

    private static StreamObserver<byte[]> observer(CompletableFuture<byte[]> result) {
        return new StreamObserver<>() {
            @Override
            public void onNext(byte[] value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                result.complete(null);
            }
        };
    }

    // ---- raw frames

    private SocketChannel raw() throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        return channel;
    }

    private record Frame(int type, int flags, int streamId, byte[] payload) {}

    private static Frame readFrame(SocketChannel channel) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(Frames.HEADER_LENGTH);
        readFully(channel, header);
        int length = ((header.get(0) & 0xff) << 16) | ((header.get(1) & 0xff) << 8) | (header.get(2) & 0xff);
        ByteBuffer payload = ByteBuffer.allocate(length);
        readFully(channel, payload);
        return new Frame(header.get(3), header.get(4) & 0xff, header.getInt(5) & 0x7fffffff, payload.array());
    }

    private static void readFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new java.io.EOFException("connection closed");
            }
        }
    }

    /** Frames read until one of {@code type}, or null if the connection closes first. */
    private static Frame until(SocketChannel channel, int type) throws IOException {
        try {
            while (true) {
                Frame frame = readFrame(channel);
                if (frame.type() == type) {
                    return frame;
                }
            }
        } catch (java.io.EOFException e) {
            return null;
        }
    }

    private static void write(SocketChannel channel, Frames.Out out) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(out.array(), 0, out.size());
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
        out.clear();
    }

    private static Frames.Out preface() {
        Frames.Out out = new Frames.Out();
        out.write(Frames.CLIENT_PREFACE, 0, Frames.CLIENT_PREFACE.length);
        out.settings();
        return out;
    }

    @Test
    void theServerSendsItsSettingsFirstAndAnswersPings() throws IOException {
        try (SocketChannel channel = raw()) {
            Frame first = readFrame(channel);
            assertEquals(Frames.SETTINGS, first.type());
            assertEquals(0, first.flags() & Frames.FLAG_ACK);
            Frames.Out out = preface();
            out.header(8, Frames.PING, 0, 0);
            out.write("pingpong".getBytes(StandardCharsets.US_ASCII), 0, 8);
            write(channel, out);
            Frame ping = until(channel, Frames.PING);
            assertNotNull(ping);
            assertEquals(Frames.FLAG_ACK, ping.flags());
            assertEquals("pingpong", new String(ping.payload(), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void dataHeldByTheWindowGoesOutOnAWindowUpdateAlone() throws Exception {
        ExecutorService reader = Executors.newSingleThreadExecutor();
        try (SocketChannel channel = raw()) {
            Frames.Out out = preface();
            byte[] block = Frames.headerBlock(false, new byte[][] {
                    bytes(":method"), bytes("POST"), bytes(":scheme"), bytes("http"), bytes(":path"), bytes("/test.Bytes/List"),
                    bytes(":authority"), bytes("localhost"), bytes("content-type"), bytes("application/grpc")});
            out.header(block.length, Frames.HEADERS, Frames.FLAG_END_HEADERS, 1);
            out.write(block, 0, block.length);
            byte[] message = ByteBuffer.allocate(13).put((byte) 0).putInt(8).putLong(1000).array(); // 1000 x 205 bytes
            out.header(message.length, Frames.DATA, Frames.FLAG_END_STREAM, 1);
            out.write(message, 0, message.length);
            write(channel, out);
            // the default windows let 65,535 bytes through, then the server waits
            int received = 0;
            while (received < Frames.DEFAULT_WINDOW) {
                Frame frame = readFrame(channel);
                if (frame.type() == Frames.DATA) {
                    received += frame.payload().length;
                }
            }
            assertEquals(Frames.DEFAULT_WINDOW, received);
            // a write holding nothing but window updates, as a Go client sends them
            out.windowUpdate(0, 100_000);
            out.windowUpdate(1, 100_000);
            write(channel, out);
            Future<Frame> next = reader.submit(() -> until(channel, Frames.DATA));
            Frame data = next.get(10, TimeUnit.SECONDS);
            assertNotNull(data);
            assertEquals(1, data.streamId());
        } finally {
            reader.shutdownNow();
        }
    }

    @Test
    void aBlockingCallRunsOnTheThreadThatReadIt() {
        String thread = new String(ClientCalls.blockingUnaryCall(channel(), THREAD, CallOptions.DEFAULT, new byte[0]),
                StandardCharsets.UTF_8);
        assertTrue(thread.startsWith("grpc-connection-"), thread);
    }

    @Test
    void aCallReadJustBeforeAConnectionErrorStillRunsAndFreesItsPlace() throws Exception {
        // more times than calls may run on readers: a call that never ran would keep its place for good
        for (int i = 0; i <= H2Server.MAX_CALLS_ON_READERS; i++) {
            try (SocketChannel channel = raw()) {
                Frames.Out out = preface();
                byte[] block = Frames.headerBlock(false, new byte[][] {
                        bytes(":method"), bytes("POST"), bytes(":scheme"), bytes("http"), bytes(":path"), bytes("/test.Bytes/Thread"),
                        bytes(":authority"), bytes("localhost"), bytes("content-type"), bytes("application/grpc")});
                out.header(block.length, Frames.HEADERS, Frames.FLAG_END_HEADERS, 1);
                out.write(block, 0, block.length);
                out.header(5, Frames.DATA, Frames.FLAG_END_STREAM, 1);
                out.write(new byte[5], 0, 5);
                out.header(1, Frames.DATA, 0, 0); // DATA on stream 0: a connection error, in the same write
                out.write(new byte[1], 0, 1);
                write(channel, out);
                Frame goAway = until(channel, Frames.GOAWAY);
                assertNotNull(goAway);
                assertEquals(Frames.PROTOCOL_ERROR, ByteBuffer.wrap(goAway.payload()).getInt(4));
            }
        }
        Thread.sleep(200); // the calls of the connections that ended have run
        String thread = new String(ClientCalls.blockingUnaryCall(channel(), THREAD, CallOptions.DEFAULT, new byte[0]),
                StandardCharsets.UTF_8);
        assertTrue(thread.startsWith("grpc-connection-"), thread);
    }

    @Test
    void aClientThatDoesNotSpeakHttp2GetsGoAway() throws IOException {
        try (SocketChannel channel = raw()) {
            channel.write(ByteBuffer.wrap("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            Frame goAway = until(channel, Frames.GOAWAY);
            assertNotNull(goAway);
            assertEquals(Frames.PROTOCOL_ERROR, ByteBuffer.wrap(goAway.payload()).getInt(4));
            assertEquals(null, until(channel, Frames.GOAWAY), "the connection is closed after GOAWAY");
        }
        // the server serves on
        assertArrayEquals(new byte[] {3}, ClientCalls.blockingUnaryCall(channel(), ECHO, CallOptions.DEFAULT, new byte[] {3}));
    }

    @Test
    void aRequestThatIsNotGrpcGetsAnHttpStatus() throws IOException {
        try (SocketChannel channel = raw()) {
            Frames.Out out = preface();
            byte[] block = Frames.headerBlock(false, new byte[][] {
                    bytes(":method"), bytes("POST"), bytes(":scheme"), bytes("http"), bytes(":path"), bytes("/test.Bytes/Echo"),
                    bytes(":authority"), bytes("localhost"), bytes("content-type"), bytes("text/html")});
            out.header(block.length, Frames.HEADERS, Frames.FLAG_END_HEADERS | Frames.FLAG_END_STREAM, 1);
            out.write(block, 0, block.length);
            write(channel, out);
            Frame response = until(channel, Frames.HEADERS);
            assertNotNull(response);
            assertEquals(1, response.streamId());
            assertTrue((response.flags() & Frames.FLAG_END_STREAM) != 0);
            String fields = new String(response.payload(), StandardCharsets.ISO_8859_1);
            assertTrue(fields.contains(":status") && fields.contains("415"), fields);
        }
    }

    @Test
    void dataOnAStreamThatWasNeverOpenedIsAConnectionError() throws IOException {
        try (SocketChannel channel = raw()) {
            Frames.Out out = preface();
            out.header(1, Frames.DATA, 0, 5);
            out.write(new byte[1], 0, 1);
            write(channel, out);
            Frame goAway = until(channel, Frames.GOAWAY);
            assertNotNull(goAway);
            assertEquals(Frames.PROTOCOL_ERROR, ByteBuffer.wrap(goAway.payload()).getInt(4));
        }
    }

    @Test
    void aFrameOverTheMaximumSizeIsAConnectionError() throws IOException {
        try (SocketChannel channel = raw()) {
            Frames.Out out = preface();
            out.header(Frames.DEFAULT_MAX_FRAME_SIZE + 1, Frames.DATA, 0, 1);
            write(channel, out);
            Frame goAway = until(channel, Frames.GOAWAY);
            assertNotNull(goAway);
            assertEquals(Frames.FRAME_SIZE_ERROR, ByteBuffer.wrap(goAway.payload()).getInt(4));
        }
    }

    @Test
    void aCorruptHeaderBlockIsAConnectionError() throws IOException {
        try (SocketChannel channel = raw()) {
            Frames.Out out = preface();
            byte[] block = {(byte) 0x80}; // indexed field 0: not an entry
            out.header(block.length, Frames.HEADERS, Frames.FLAG_END_HEADERS, 1);
            out.write(block, 0, block.length);
            write(channel, out);
            Frame goAway = until(channel, Frames.GOAWAY);
            assertNotNull(goAway);
            assertEquals(Frames.COMPRESSION_ERROR, ByteBuffer.wrap(goAway.payload()).getInt(4));
        }
        assertFalse(server.isShutdown());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
