package dev.berth.ttrpc;

import com.google.rpc.Code;
import com.google.rpc.Status;
import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.CanceledException;
import dev.berth.plugin.DeadlineExceededException;
import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.UnavailableException;
import dev.berth.plugin.UnimplementedException;

/** The mapping between ttrpc statuses and Berth's error classes, both ways, as containerd's errdefs does. */
final class Statuses {

    private Statuses() {}

    static Status status(Code code, String message) {
        return Status.newBuilder().setCode(code.getNumber()).setMessage(message).build();
    }

    /** The status a handler's failure is answered with. */
    static Status fromThrowable(Throwable error) {
        return switch (error) {
            case TtrpcException e -> e.toStatus();
            case BerthException e -> status(code(e.kind()), e.getMessage());
            // a Go handler returning a plain error gives Unknown with the error's text
            default -> status(Code.UNKNOWN, error.getMessage() != null ? error.getMessage() : error.toString());
        };
    }

    /** The exception a caller sees for a non-OK status: a Berth class where one fits, else the status itself. */
    static RuntimeException toException(Status status) {
        Code code = Code.forNumber(status.getCode());
        TtrpcException cause = new TtrpcException(code == null ? Code.UNRECOGNIZED : code, status.getMessage());
        String message = status.getMessage();
        return switch (cause.code()) {
            case NOT_FOUND -> new NotFoundException(message, cause);
            case ALREADY_EXISTS -> new AlreadyExistsException(message, cause);
            case INVALID_ARGUMENT -> new InvalidArgumentException(message, cause);
            case FAILED_PRECONDITION -> new FailedPreconditionException(message, cause);
            case UNAVAILABLE -> new UnavailableException(message, cause);
            case UNIMPLEMENTED -> new UnimplementedException(message, cause);
            case CANCELLED -> new CanceledException(message, cause);
            case DEADLINE_EXCEEDED -> new DeadlineExceededException(message, cause);
            default -> cause;
        };
    }

    private static Code code(BerthException.Kind kind) {
        return switch (kind) {
            case NOT_FOUND -> Code.NOT_FOUND;
            case ALREADY_EXISTS -> Code.ALREADY_EXISTS;
            case INVALID_ARGUMENT -> Code.INVALID_ARGUMENT;
            case FAILED_PRECONDITION -> Code.FAILED_PRECONDITION;
            case UNAVAILABLE -> Code.UNAVAILABLE;
            case UNIMPLEMENTED -> Code.UNIMPLEMENTED;
            case CANCELED -> Code.CANCELLED;
            case DEADLINE_EXCEEDED -> Code.DEADLINE_EXCEEDED;
        };
    }
}
