package dev.berth.plugin;

/** The request is malformed: a bad name, digest, filter or value. */
public final class InvalidArgumentException extends BerthException {
    public InvalidArgumentException(String message) {
        super(message, null);
    }

    public InvalidArgumentException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.INVALID_ARGUMENT;
    }
}
