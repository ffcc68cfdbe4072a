package dev.berth.plugins.grpc.storage;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.UnsafeByteOperations;
import dev.berth.api.Errors;
import dev.berth.api.services.content.v1.ReadContentResponse;
import dev.berth.plugin.content.ContentReader;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.Digest;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Streams a blob's bytes in chunks of {@value #CHUNK} bytes, as containerd does, sending only while
 * the client's window has room: a slow reader holds at most a few chunks in the daemon's memory.
 *
 * <p>Read calls run on the transport's thread (see {@link ContentService#nonBlockingMethods}). A range of
 * at most one chunk, which is what clients reading piecewise ask for, is answered there at once; a longer
 * one is pumped from a worker, so that the transport never waits on more than one chunk of disk reads.
 */
final class ReadPump {
    /** containerd's read buffer, one response per chunk. */
    static final int CHUNK = 1 << 20;
    /** Bytes queued for the client before the pump waits: a few chunks in flight. */
    private static final int READY_THRESHOLD = 4 * CHUNK;

    private final ContentReader reader;
    private final ServerCallStreamObserver<ReadContentResponse> observer;
    private final long end;
    /** Pump runs asked for and not yet done; the one that raises it from zero starts the worker. */
    private final AtomicInteger pending = new AtomicInteger();
    private long offset;
    private volatile boolean done;

    private ReadPump(ContentReader reader, ServerCallStreamObserver<ReadContentResponse> observer, long offset, long end) {
        this.reader = reader;
        this.observer = observer;
        this.offset = offset;
        this.end = end;
    }

    /**
     * Opens the blob and checks the range as containerd: a negative offset reads from the start, an
     * offset past the end is out of range, a size of zero or beyond the end reads to the end.
     */
    static ReadPump open(ContentStore content, Digest digest, long offset, long size,
            ServerCallStreamObserver<ReadContentResponse> observer) {
        // the reader knows the size: no separate info lookup, which clients reading in small pieces
        // (ctr's export reads 32 KiB a call) would pay on every call
        ContentReader reader = content.readerAt(digest);
        long length = reader.size();
        long start = Math.max(0, offset);
        if (start > length) {
            reader.close();
            throw Status.OUT_OF_RANGE.withDescription("read past object length " + length + " bytes").asRuntimeException();
        }
        long end = size <= 0 || start + size > length ? length : start + size;
        return new ReadPump(reader, observer, start, end);
    }

    /**
     * Sends the range: at once if it fits one chunk, otherwise from {@code worker} as the client becomes
     * ready. The reader is closed at the end, on error or on cancel.
     */
    void start(Executor worker) {
        requireNonNull(worker, "worker is null");
        if (end - offset <= CHUNK) {
            // one message at most: buffered by the transport whatever the client's window, as any reply is
            if (offset == end || send()) {
                complete();
            }
            return;
        }
        // gRPC's default threshold (32 KiB) is below one chunk, so without this each chunk would wait
        // for the previous one to drain: reading from disk and sending would never overlap
        observer.setOnReadyThreshold(READY_THRESHOLD);
        observer.setOnCancelHandler(this::finish);
        observer.setOnReadyHandler(() -> {
            if (pending.getAndIncrement() == 0) {
                worker.execute(this::drain);
            }
        });
    }

    /** Pumps until no readiness arrived during the last pump: one worker at a time, none left idle. */
    private void drain() {
        int runs = 1;
        do {
            pump();
            runs = pending.addAndGet(-runs);
        } while (runs != 0);
    }

    private void pump() {
        while (!done && observer.isReady()) {
            if (offset >= end) {
                complete();
                return;
            }
            if (!send()) {
                return;
            }
        }
    }

    /** Sends the next chunk; false if that failed and the call ended with the error. */
    private boolean send() {
        try {
            // a fresh array per message: the transport may still hold the previous one
            byte[] chunk = new byte[(int) Math.min(CHUNK, end - offset)];
            ByteBuffer buffer = ByteBuffer.wrap(chunk);
            while (buffer.hasRemaining()) {
                if (reader.read(buffer, offset + buffer.position()) < 0) {
                    throw new IllegalStateException("blob ended at " + (offset + buffer.position()) + " of " + end);
                }
            }
            observer.onNext(ReadContentResponse.newBuilder()
                    .setOffset(offset)
                    .setData(UnsafeByteOperations.unsafeWrap(chunk))
                    .build());
            offset += chunk.length;
            return true;
        } catch (RuntimeException e) {
            if (!done) {
                finish();
                observer.onError(Errors.toStatus(e));
            }
            return false;
        }
    }

    private void complete() {
        finish();
        observer.onCompleted();
    }

    private synchronized void finish() {
        if (!done) {
            done = true;
            reader.close();
        }
    }
}
