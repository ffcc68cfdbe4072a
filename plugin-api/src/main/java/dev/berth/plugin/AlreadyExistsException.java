package dev.berth.plugin;

/** The object already exists. */
public final class AlreadyExistsException extends BerthException {
    public AlreadyExistsException(String message) {
        super(message, null);
    }

    public AlreadyExistsException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.ALREADY_EXISTS;
    }
}
