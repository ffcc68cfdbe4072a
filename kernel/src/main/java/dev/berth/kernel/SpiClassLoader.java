package dev.berth.kernel;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.URL;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * The parent of every plugin jar's class loader: the JDK, plus the SPI packages (and the few
 * libraries the SPI deliberately shares) taken from the daemon's loader, and nothing else. A plugin
 * therefore cannot link against the kernel, the server or another jar, and the SPI types it sees
 * are the daemon's own (so its instances are usable by the kernel without copies).
 *
 * <p>A jar may serve gRPC services as the built-in service plugins do: it sees the wire API
 * ({@code dev.berth.api}: containerd's messages, the service plugin type, the namespace header and
 * the error mapping), gRPC's API and protobuf, all the daemon's own, so that the server can bind
 * the jar's service and marshal its messages. gRPC's transport stays the daemon's alone.
 */
final class SpiClassLoader extends ClassLoader {
    /** Packages a plugin jar shares with the daemon. */
    static final List<String> SHARED_PACKAGES = List.of("dev.berth.plugin.", "org.slf4j.",
            "dev.berth.api.", "io.grpc.", "com.google.protobuf.");
    /** Packages under a shared one that a plugin jar does not share: gRPC's transport. */
    static final List<String> PRIVATE_PACKAGES = List.of("io.grpc.netty.");

    private final ClassLoader daemonLoader;

    SpiClassLoader(ClassLoader daemonLoader) {
        super("berth-spi", ClassLoader.getPlatformClassLoader());
        this.daemonLoader = requireNonNull(daemonLoader, "daemonLoader is null");
    }

    static boolean isShared(String className) {
        for (String prefix : PRIVATE_PACKAGES) {
            if (className.startsWith(prefix)) {
                return false;
            }
        }
        for (String prefix : SHARED_PACKAGES) {
            if (className.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (isShared(name)) {
            return daemonLoader.loadClass(name);
        }
        // the platform loader: JDK classes only
        return super.loadClass(name, resolve);
    }

    // Resources of the daemon (its reference.conf, its service files) must not leak into a plugin
    // jar's view: the kernel reads a jar's own resources through its loader.
    @Override
    public URL getResource(String name) {
        return null;
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
        return Collections.emptyEnumeration();
    }
}
