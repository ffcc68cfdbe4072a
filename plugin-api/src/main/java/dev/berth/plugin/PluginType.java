package dev.berth.plugin;

import static java.util.Objects.requireNonNull;

/**
 * The type of a plugin: a URI string (containerd's where one exists, because clients filter on it)
 * and the Java contract every plugin of that type exports.
 *
 * <p>Two {@code PluginType} values with the same URI must name the same contract; the kernel refuses
 * a plugin whose instance does not implement its type's contract.
 *
 * @param uri      the type string, e.g. {@code io.containerd.snapshotter.v1}
 * @param contract the interface (or class) instances of this type implement
 * @param <T>      the contract
 */
public record PluginType<T>(String uri, Class<T> contract) {

    public PluginType {
        requireNonNull(uri, "uri is null");
        requireNonNull(contract, "contract is null");
        if (!Names.isValidType(uri)) {
            throw new IllegalArgumentException("invalid plugin type '" + uri
                    + "': expected a dotted name such as io.containerd.grpc.v1");
        }
    }

    public static <T> PluginType<T> of(String uri, Class<T> contract) {
        return new PluginType<>(uri, contract);
    }

    @Override
    public String toString() {
        return uri;
    }
}
