package dev.berth.plugin;

/** The object is not in a state that allows the operation (e.g. a namespace that is not empty). */
public final class FailedPreconditionException extends BerthException {
    public FailedPreconditionException(String message) {
        super(message, null);
    }

    public FailedPreconditionException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.FAILED_PRECONDITION;
    }
}
