package dev.berth.plugin;

/** The operation is not supported by this implementation. */
public final class UnimplementedException extends BerthException {
    public UnimplementedException(String message) {
        super(message, null);
    }

    public UnimplementedException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.UNIMPLEMENTED;
    }
}
