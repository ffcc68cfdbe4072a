package dev.berth.bootstrap.h2;

import static dev.berth.bootstrap.h2.Frames.*;
import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms the gRPC transport once the daemon serves: connects to the daemon's own socket a number of times,
 * one connection after another, and on each makes two calls that change nothing ({@code Version.Version}
 * and {@code Namespaces.List}), as a {@code ctr} command connects and calls.
 *
 * <p>Every {@code ctr} command opens a connection of its own. The JIT compiles the server's per-connection
 * and per-call paths (HTTP/2 codec, stream set-up, framing, the hand-off to a request thread) only after
 * some thousands of calls; until then each command pays some milliseconds for code that is interpreted or
 * still profiled. This runs those paths in the seconds after start instead.
 *
 * <p>The client writes its HTTP/2 frames itself, with the transport's {@link Frames}, on a JDK socket
 * channel: with a Netty or gRPC client in this JVM, the profiles the JIT collects for the codec would mix
 * the client's side in with the server's.
 */
public final class TransportWarmUp implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TransportWarmUp.class);

    public static final String VERSION = "/containerd.services.version.v1.Version/Version";
    public static final String LIST_NAMESPACES = "/containerd.services.namespaces.v1.Namespaces/List";

    private static final byte[] EMPTY_MESSAGE = new byte[5];

    private final Path socket;
    private final int connections;
    private final CompletableFuture<Integer> done = new CompletableFuture<>();
    private volatile boolean closed;
    private volatile SocketChannel current;

    private TransportWarmUp(Path socket, int connections) {
        this.socket = socket;
        this.connections = connections;
    }

    /** Starts the warm-up on a thread of its own; with {@code connections} 0 it is done at once. */
    public static TransportWarmUp start(Path socket, int connections) {
        if (connections < 0) {
            throw new IllegalArgumentException("connections must not be negative: " + connections);
        }
        TransportWarmUp warmUp = new TransportWarmUp(socket, connections);
        if (connections == 0) {
            warmUp.done.complete(0);
        } else {
            Thread.ofPlatform().daemon().name("grpc-warm-up").start(warmUp::run);
        }
        return warmUp;
    }

    /**
     * Completes with the number of connections made once the warm-up ends: all of them, or fewer if it was
     * closed first; completes exceptionally if a connection or a call failed.
     */
    public CompletableFuture<Integer> done() {
        return done;
    }

    /** Stops the warm-up after the connection in progress, which is closed. */
    @Override
    public void close() {
        closed = true;
        SocketChannel channel = current;
        if (channel != null) {
            closeQuietly(channel);
        }
    }

    private void run() {
        long started = System.nanoTime();
        int made = 0;
        try {
            while (made < connections && connect()) {
                made++;
            }
            log.debug("transport warm-up: {} connections in {} ms", made, (System.nanoTime() - started) / 1_000_000);
            done.complete(made);
        } catch (IOException | RuntimeException e) {
            if (closed) {
                done.complete(made);
                return;
            }
            log.warn("transport warm-up stopped after {} of {} connections: {}", made, connections, e.getMessage());
            done.completeExceptionally(e);
        }
    }

    /**
     * One connection as a client opens it: preface, settings, two calls, then it hangs up; false if the
     * warm-up was closed before it began.
     */
    private boolean connect() throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            current = channel;
            if (closed) {
                return false;
            }
            channel.connect(UnixDomainSocketAddress.of(socket));
            ServerFrames frames = new ServerFrames(channel);
            Frames.Out out = new Frames.Out();
            out.write(CLIENT_PREFACE, 0, CLIENT_PREFACE.length);
            out.settings();
            frames.write(out);
            frames.awaitSettings();
            out.header(0, SETTINGS, FLAG_ACK, 0);
            call(out, 1, VERSION);
            frames.write(out);
            frames.awaitResponse(1, VERSION);
            call(out, 3, LIST_NAMESPACES);
            frames.write(out);
            frames.awaitResponse(3, LIST_NAMESPACES);
            return true;
        } finally {
            current = null;
        }
    }

    /** A unary call with an empty request: its headers, then its one message, which ends the stream. */
    private static void call(Frames.Out out, int stream, String method) {
        byte[] block = Frames.headerBlock(false, new byte[][] {
                ascii(":method"), ascii("POST"), ascii(":scheme"), ascii("http"), ascii(":path"), ascii(method),
                ascii(":authority"), ascii("localhost"), ascii("content-type"), ascii("application/grpc"),
                ascii("te"), ascii("trailers")});
        out.header(block.length, HEADERS, FLAG_END_HEADERS, stream);
        out.write(block, 0, block.length);
        out.header(EMPTY_MESSAGE.length, DATA, FLAG_END_STREAM, stream);
        out.write(EMPTY_MESSAGE, 0, EMPTY_MESSAGE.length);
    }

    private static byte[] ascii(String text) {
        return text.getBytes(US_ASCII);
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // closing to stop: nothing to do about a failure
        }
    }

    /**
     * The server's frames on one connection, read in order. Pings are answered as they come; the server's
     * settings are acknowledged with the first call, as clients do.
     */
    private static final class ServerFrames {
        private final SocketChannel channel;
        private final ByteBuffer header = ByteBuffer.allocate(9);
        private ByteBuffer payload = ByteBuffer.allocate(1024);
        private int type;
        private int flags;
        private int stream;

        ServerFrames(SocketChannel channel) {
            this.channel = channel;
        }

        void write(Frames.Out out) throws IOException {
            ByteBuffer bytes = ByteBuffer.wrap(out.array(), 0, out.size());
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            out.clear();
        }

        /** Reads until the server's own settings (its preface) arrive. */
        void awaitSettings() throws IOException {
            do {
                next();
            } while (type != SETTINGS || (flags & FLAG_ACK) != 0);
        }

        /** Reads until {@code stream} ends; fails unless a response message came on it first. */
        void awaitResponse(int id, String method) throws IOException {
            boolean message = false;
            while (true) {
                next();
                if (stream != id) {
                    continue;
                }
                switch (type) {
                    case DATA -> message |= payload.remaining() >= EMPTY_MESSAGE.length;
                    case RST_STREAM -> throw new IOException(method + ": the server reset the stream");
                    case HEADERS, CONTINUATION, PRIORITY, WINDOW_UPDATE -> { }
                    default -> throw new IOException(method + ": unexpected frame of type " + type);
                }
                if ((type == DATA || type == HEADERS) && (flags & FLAG_END_STREAM) != 0) {
                    if (!message) {
                        throw new IOException(method + ": the call ended without a response message");
                    }
                    return;
                }
            }
        }

        /** Reads the next frame into {@link #payload}; answers pings on the way. */
        private void next() throws IOException {
            header.clear();
            fill(header);
            header.flip();
            int length = (header.get() & 0xff) << 16 | (header.get() & 0xff) << 8 | (header.get() & 0xff);
            type = header.get() & 0xff;
            flags = header.get() & 0xff;
            stream = header.getInt() & 0x7fffffff;
            if (payload.capacity() < length) {
                payload = ByteBuffer.allocate(length);
            }
            payload.clear().limit(length);
            fill(payload);
            payload.flip();
            if (type == GOAWAY) {
                throw new IOException("the server sent GOAWAY");
            }
            if (type == PING && (flags & FLAG_ACK) == 0) {
                Frames.Out ack = new Frames.Out();
                ack.header(payload.remaining(), PING, FLAG_ACK, 0);
                ack.write(payload.array(), 0, payload.remaining());
                write(ack);
            }
        }

        private void fill(ByteBuffer buffer) throws IOException {
            while (buffer.hasRemaining()) {
                if (channel.read(buffer) < 0) {
                    throw new EOFException("the server closed the connection");
                }
            }
        }
    }
}
