package dev.berth.plugin;

/** The operation did not finish in time. */
public final class DeadlineExceededException extends BerthException {
    public DeadlineExceededException(String message) {
        super(message, null);
    }

    public DeadlineExceededException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.DEADLINE_EXCEEDED;
    }
}
