package dev.berth.api;

import dev.berth.plugin.BerthException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * The one mapping from Berth's error classes to gRPC status codes, as containerd's
 * {@code errdefs.ToGRPC}: every service reports a failure with
 * {@code observer.onError(Errors.toStatus(e))}.
 */
public final class Errors {

    private Errors() {}

    /**
     * The status a client sees for {@code error}. A {@link BerthException} anywhere in the cause chain
     * gives its code and its message (which carries the context, e.g. {@code content sha256:ab…: not
     * found}); a status exception passes through unchanged; anything else is {@code UNKNOWN} with the
     * error's message, as a Go server reports a plain error.
     */
    public static StatusRuntimeException toStatus(Throwable error) {
        return switch (error) {
            case StatusRuntimeException e -> e;
            case StatusException e -> new StatusRuntimeException(e.getStatus(), e.getTrailers());
            default -> status(error).asRuntimeException();
        };
    }

    private static Status status(Throwable error) {
        // Go wraps with %w and errors.Is looks through the chain; Java wraps in CompletionException,
        // ExecutionException, UncheckedIOException, … whose own messages add nothing, so the class and
        // the message both come from the first BerthException found.
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable t = error; t != null && seen.add(t); t = t.getCause()) {
            if (t instanceof BerthException e) {
                return code(e.kind()).withDescription(e.getMessage()).withCause(error);
            }
        }
        String message = error.getMessage() != null ? error.getMessage() : error.toString();
        return Status.UNKNOWN.withDescription(message).withCause(error);
    }

    private static Status code(BerthException.Kind kind) {
        return switch (kind) {
            case NOT_FOUND -> Status.NOT_FOUND;
            case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
            case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
            case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
            case UNAVAILABLE -> Status.UNAVAILABLE;
            case UNIMPLEMENTED -> Status.UNIMPLEMENTED;
            case CANCELED -> Status.CANCELLED;
            case DEADLINE_EXCEEDED -> Status.DEADLINE_EXCEEDED;
        };
    }
}
