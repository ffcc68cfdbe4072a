package dev.berth.ttrpc;

import static java.util.Objects.requireNonNull;

import com.google.rpc.Code;
import com.google.rpc.Status;

/**
 * A ttrpc call failed with a status that has no {@link dev.berth.plugin.BerthException} class (e.g.
 * {@code UNKNOWN}, {@code INTERNAL}, {@code RESOURCE_EXHAUSTED}), or a handler wants to answer with a precise
 * status. Where a Berth class exists, {@link TtrpcClient#call} throws that class with this exception as its
 * cause, so the status code stays reachable.
 */
public final class TtrpcException extends RuntimeException {

    private final Code code;
    private final String statusMessage;

    /** The message is the status message alone, as containerd passes a shim's error on; the code shows in {@link #toString}. */
    public TtrpcException(Code code, String statusMessage) {
        super(requireNonNull(statusMessage, "statusMessage is null"));
        this.code = requireNonNull(code, "code is null");
        this.statusMessage = statusMessage;
    }

    /** The status code; {@link Code#UNRECOGNIZED} for a number google.rpc does not define. */
    public Code code() {
        return code;
    }

    /** The status message as the peer sent it, without the code. */
    public String statusMessage() {
        return statusMessage;
    }

    @Override
    public String toString() {
        return getClass().getName() + " (" + code + "): " + statusMessage;
    }

    Status toStatus() {
        return Status.newBuilder().setCode(code.getNumber()).setMessage(statusMessage).build();
    }
}
