package dev.berth.plugins.grpc.storage;

import dev.berth.api.services.content.v1.ContentGrpc;
import dev.berth.api.services.content.v1.WriteAction;
import dev.berth.api.services.content.v1.WriteContentRequest;
import dev.berth.api.services.content.v1.WriteContentResponse;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A Write stream driven as containerd's client drives it: one request, then its one response. */
final class WriteClient implements AutoCloseable {
    private static final Object COMPLETED = new Object();
    private final BlockingQueue<Object> responses = new LinkedBlockingQueue<>();
    private final ClientCallStreamObserver<WriteContentRequest> requests;

    WriteClient(ContentGrpc.ContentStub stub) {
        ClientCallStreamObserver<?>[] call = new ClientCallStreamObserver<?>[1];
        stub.write(new ClientResponseObserver<WriteContentRequest, WriteContentResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<WriteContentRequest> stream) {
                call[0] = stream;
            }

            @Override
            public void onNext(WriteContentResponse response) {
                responses.add(response);
            }

            @Override
            public void onError(Throwable error) {
                responses.add(error);
            }

            @Override
            public void onCompleted() {
                responses.add(COMPLETED);
            }
        });
        @SuppressWarnings("unchecked")
        ClientCallStreamObserver<WriteContentRequest> stream = (ClientCallStreamObserver<WriteContentRequest>) call[0];
        this.requests = stream;
    }

    /** Sends one request and returns its response; a failed call is thrown as its status. */
    WriteContentResponse send(WriteContentRequest request) throws InterruptedException {
        requests.onNext(request);
        Object next = responses.poll(30, TimeUnit.SECONDS);
        if (next instanceof WriteContentResponse response) {
            return response;
        }
        if (next instanceof StatusRuntimeException error) {
            throw error;
        }
        throw new AssertionError("no response but " + next);
    }

    /** Sends every request without waiting, as a streaming client may, then collects one response per request. */
    java.util.List<WriteContentResponse> pipeline(java.util.List<WriteContentRequest> batch) throws InterruptedException {
        batch.forEach(requests::onNext);
        java.util.List<WriteContentResponse> received = new java.util.ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            Object next = responses.poll(30, TimeUnit.SECONDS);
            if (!(next instanceof WriteContentResponse response)) {
                throw new AssertionError("response " + i + " is " + next);
            }
            received.add(response);
        }
        return received;
    }

    WriteContentResponse stat(String ref, long total, String expected) throws InterruptedException {
        return send(WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef(ref).setTotal(total)
                .setExpected(expected).build());
    }

    WriteContentResponse write(long offset, byte[] data) throws InterruptedException {
        return send(WriteContentRequest.newBuilder().setAction(WriteAction.WRITE).setOffset(offset)
                .setData(com.google.protobuf.ByteString.copyFrom(data)).build());
    }

    /** Whether the server ended the stream successfully after the last response. */
    boolean completed() throws InterruptedException {
        return responses.poll(30, TimeUnit.SECONDS) == COMPLETED;
    }

    /** Goes away without a word, as a killed client does. */
    void cancel() {
        requests.cancel("client went away", null);
    }

    /** Ends the stream from the client's side, as containerd's client does when it closes a writer. */
    @Override
    public void close() {
        requests.onCompleted();
    }
}
