package dev.berth.plugin;

/** A resource the operation needs is not available now; retrying may succeed. */
public final class UnavailableException extends BerthException {
    public UnavailableException(String message) {
        super(message, null);
    }

    public UnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.UNAVAILABLE;
    }
}
