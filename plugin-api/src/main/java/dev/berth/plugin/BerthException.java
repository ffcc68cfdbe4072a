package dev.berth.plugin;

/**
 * The small, fixed set of error classes every contract uses. Each maps to one gRPC status code in
 * exactly one place (the service layer); a message carries its context, e.g.
 * {@code content sha256:ab…: not found}.
 */
public abstract sealed class BerthException extends RuntimeException
        permits NotFoundException, AlreadyExistsException, InvalidArgumentException,
                FailedPreconditionException, UnavailableException, UnimplementedException,
                CanceledException, DeadlineExceededException {

    BerthException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The class of error, for mapping and for callers that switch on it. */
    public abstract Kind kind();

    public enum Kind {
        NOT_FOUND("not found"),
        ALREADY_EXISTS("already exists"),
        INVALID_ARGUMENT("invalid argument"),
        FAILED_PRECONDITION("failed precondition"),
        UNAVAILABLE("unavailable"),
        UNIMPLEMENTED("not implemented"),
        CANCELED("canceled"),
        DEADLINE_EXCEEDED("deadline exceeded");

        private final String text;

        Kind(String text) {
            this.text = text;
        }

        /** The suffix containerd appends to such errors, e.g. {@code not found}. */
        public String text() {
            return text;
        }
    }

    /** Builds the error of the given kind, with {@code ": <kind text>"} appended to the context. */
    public static BerthException of(Kind kind, String context) {
        String message = context + ": " + kind.text();
        return switch (kind) {
            case NOT_FOUND -> new NotFoundException(message);
            case ALREADY_EXISTS -> new AlreadyExistsException(message);
            case INVALID_ARGUMENT -> new InvalidArgumentException(message);
            case FAILED_PRECONDITION -> new FailedPreconditionException(message);
            case UNAVAILABLE -> new UnavailableException(message);
            case UNIMPLEMENTED -> new UnimplementedException(message);
            case CANCELED -> new CanceledException(message);
            case DEADLINE_EXCEEDED -> new DeadlineExceededException(message);
        };
    }
}
