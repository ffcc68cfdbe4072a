package dev.berth.api;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.Callable;

/** The shape of every unary call: compute the response, or report the failure through the one error mapping. */
public final class Calls {
    private Calls() {}

    public static <T> void reply(StreamObserver<T> observer, Callable<T> call) {
        T response;
        try {
            response = call.call();
        } catch (Exception e) {
            observer.onError(Errors.toStatus(e));
            return;
        }
        observer.onNext(response);
        observer.onCompleted();
    }
}
