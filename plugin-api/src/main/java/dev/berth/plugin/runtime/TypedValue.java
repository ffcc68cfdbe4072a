package dev.berth.plugin.runtime;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;

/**
 * A value the daemon passes through without interpreting it: a type name and the value encoded as that type
 * (containerd's {@code google.protobuf.Any}), e.g. runc's options ({@code containerd.runc.v1.Options}) or a
 * task's metrics.
 *
 * @param typeUrl the value's type, e.g. {@code containerd.runc.v1.Options}
 * @param value   the encoded value
 */
public record TypedValue(String typeUrl, byte[] value) {
    public TypedValue {
        requireNonNull(typeUrl, "typeUrl is null");
        value = requireNonNull(value, "value is null").clone();
    }

    @Override
    public byte[] value() {
        return value.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TypedValue that && typeUrl.equals(that.typeUrl) && Arrays.equals(value, that.value);
    }

    @Override
    public int hashCode() {
        return 31 * typeUrl.hashCode() + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "TypedValue[typeUrl=" + typeUrl + ", " + value.length + " bytes]";
    }
}
