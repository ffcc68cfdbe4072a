package dev.berth.plugins.grpc.storage;

import dev.berth.api.Errors;
import dev.berth.api.Timestamps;
import dev.berth.api.services.content.v1.WriteAction;
import dev.berth.api.services.content.v1.WriteContentRequest;
import dev.berth.api.services.content.v1.WriteContentResponse;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.content.IngestStatus;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One {@code Write} stream, as containerd's content server: the first request names the ref and
 * opens (locks) its writer; every request, {@code STAT}, {@code WRITE} or {@code COMMIT}, gets one
 * response carrying the writer's offset; a {@code COMMIT} ends the stream. The writer is closed
 * however the stream ends (commit, error, the client half-closing or going away), so that the ref
 * is never left locked.
 *
 * <p>Requests are asked for one at a time, each after the previous one reached the writer: a client
 * streaming faster than the disk takes its bytes is held back by gRPC's flow control instead of
 * filling the daemon's memory.
 */
final class WriteSession implements StreamObserver<WriteContentRequest> {
    private final Supplier<ContentStore> contentOfCaller;
    private final ServerCallStreamObserver<WriteContentResponse> responses;
    private ContentStore content;
    private ContentWriter writer;
    private String ref;
    private long total;
    private Optional<Digest> expected = Optional.empty();
    private boolean finished;

    WriteSession(Supplier<ContentStore> contentOfCaller, ServerCallStreamObserver<WriteContentResponse> responses) {
        this.contentOfCaller = contentOfCaller;
        this.responses = responses;
        responses.disableAutoRequest();
        responses.request(1);
    }

    @Override
    public void onNext(WriteContentRequest request) {
        if (finished) {
            return;
        }
        WriteContentResponse response;
        try {
            response = handle(request);
        } catch (RuntimeException e) {
            finish();
            responses.onError(Errors.toStatus(e));
            return;
        }
        responses.onNext(response);
        if (request.getAction() == WriteAction.COMMIT) {
            finish();
            responses.onCompleted();
        } else {
            responses.request(1);
        }
    }

    /** The client went away or cancelled: release the ref, keeping what was written for a resume. */
    @Override
    public void onError(Throwable error) {
        finish();
    }

    /** The client ended the stream without committing, as containerd's client does on close. */
    @Override
    public void onCompleted() {
        if (!finished) {
            finish();
            responses.onCompleted();
        }
    }

    private WriteContentResponse handle(WriteContentRequest request) {
        if (writer == null) {
            open(request);
        }
        IngestStatus status = writer.status();
        WriteContentResponse.Builder response = WriteContentResponse.newBuilder()
                .setAction(request.getAction())
                .setOffset(status.offset());
        if (!request.getExpected().isEmpty()) {
            expected = Optional.of(Digest.parse(request.getExpected()));
            if (committed(expected.get())) {
                // the client need send nothing more: drop the ingest, as containerd does
                finish();
                try {
                    content.abort(ref);
                } catch (NotFoundException e) {
                    // nothing was left to drop
                }
                throw BerthException.of(BerthException.Kind.ALREADY_EXISTS, "blob with expected digest " + expected.get() + " exists");
            }
        }
        if (request.getTotal() > 0) {
            total = request.getTotal();
        }
        switch (request.getAction()) {
            case STAT -> response
                    .setDigest(writer.digest().toString())
                    .setStartedAt(Timestamps.timestamp(status.startedAt()))
                    .setUpdatedAt(Timestamps.timestamp(status.updatedAt()))
                    .setTotal(total);
            case WRITE, COMMIT -> {
                long offset = status.offset();
                if (request.getOffset() > 0 && request.getOffset() != offset) {
                    throw Status.OUT_OF_RANGE
                            .withDescription("write @" + request.getOffset() + " must occur at current offset " + offset)
                            .asRuntimeException();
                }
                if (request.getOffset() == 0 && offset > 0) {
                    // a client writing at zero starts over
                    writer.truncate(0);
                    offset = 0;
                }
                for (ByteBuffer data : request.getData().asReadOnlyByteBufferList()) {
                    offset += data.remaining();
                    writer.write(data);
                }
                response.setOffset(offset);
                Digest digest = writer.digest();
                if (request.getAction() == WriteAction.COMMIT) {
                    writer.commit(total, expected, request.getLabelsMap());
                }
                response.setDigest(digest.toString());
            }
            default -> throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                    "unknown write action " + request.getActionValue());
        }
        return response.build();
    }

    private void open(WriteContentRequest first) {
        if (first.getRef().isEmpty()) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "first message must have a reference");
        }
        content = contentOfCaller.get();
        ref = first.getRef();
        total = first.getTotal();
        expected = first.getExpected().isEmpty() ? Optional.empty() : Optional.of(Digest.parse(first.getExpected()));
        writer = content.writer(ref, total, expected);
    }

    private boolean committed(Digest digest) {
        try {
            content.info(digest);
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    private void finish() {
        finished = true;
        if (writer != null) {
            ContentWriter open = writer;
            writer = null;
            open.close();
        }
    }
}
