package dev.berth.plugin;

/** The operation was canceled by its caller. */
public final class CanceledException extends BerthException {
    public CanceledException(String message) {
        super(message, null);
    }

    public CanceledException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.CANCELED;
    }
}
