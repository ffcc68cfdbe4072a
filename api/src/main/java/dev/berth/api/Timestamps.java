package dev.berth.api;

import com.google.protobuf.Timestamp;
import java.time.Instant;

/** Conversions between protobuf timestamps and {@link Instant}, exact to the nanosecond. */
public final class Timestamps {
    private Timestamps() {}

    public static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    public static Instant instant(Timestamp timestamp) {
        return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
    }
}
