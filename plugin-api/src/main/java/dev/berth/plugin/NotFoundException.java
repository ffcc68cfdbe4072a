package dev.berth.plugin;

/** The object does not exist. */
public final class NotFoundException extends BerthException {
    public NotFoundException(String message) {
        super(message, null);
    }

    public NotFoundException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.NOT_FOUND;
    }
}
