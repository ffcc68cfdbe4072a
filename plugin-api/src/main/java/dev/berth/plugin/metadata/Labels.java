package dev.berth.plugin.metadata;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.InvalidArgumentException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Label rules and the labels the garbage collector reads, as containerd defines them. */
public final class Labels {
    /** The most bytes a label's key and value may take together. */
    public static final int MAX_SIZE = 4096;
    /** Present on an object (any value): the object is a root and is never collected. */
    public static final String GC_ROOT = "containerd.io/gc.root";
    /** On a lease: RFC 3339 time after which the lease is expired and collected. */
    public static final String GC_EXPIRE = "containerd.io/gc.expire";
    /** On a lease: its resources are kept, but their own references are not followed. */
    public static final String GC_FLAT = "containerd.io/gc.flat";
    /** Prefix of labels whose value is a content digest the labelled object references. */
    public static final String GC_REF_CONTENT = "containerd.io/gc.ref.content";
    /** Prefix of labels {@code <prefix><snapshotter>[/<name>]} whose value is a snapshot key referenced. */
    public static final String GC_REF_SNAPSHOT = "containerd.io/gc.ref.snapshot.";

    private Labels() {}

    /**
     * Checks one label: key and value together at most {@value #MAX_SIZE} bytes.
     *
     * @throws InvalidArgumentException otherwise, naming {@code what} (e.g. {@code namespace.Labels})
     */
    public static void validate(String what, String key, String value) {
        int size = key.getBytes(StandardCharsets.UTF_8).length + value.getBytes(StandardCharsets.UTF_8).length;
        if (size > MAX_SIZE) {
            String shown = key.length() > 10 ? key.substring(0, 10) : key;
            throw (InvalidArgumentException) BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                    what + ": label key and value greater than maximum size (" + MAX_SIZE + " bytes), key: " + shown);
        }
    }

    /** Checks every label of {@code labels} as {@link #validate(String, String, String)}. */
    public static void validate(String what, Map<String, String> labels) {
        labels.forEach((key, value) -> validate(what, key, value));
    }
}
