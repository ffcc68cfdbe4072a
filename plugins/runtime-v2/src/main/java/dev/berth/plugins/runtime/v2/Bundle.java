package dev.berth.plugins.runtime.v2;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.mount.Mounts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A task's bundle, {@code <state>/<namespace>/<id>}, as containerd's: the OCI {@code config.json}, the
 * {@code rootfs} directory the shim mounts the root filesystem on, the shim's {@code log} FIFO, the
 * {@code address} the shim writes, and {@code shim-binary-path}, which names the shim after a restart.
 */
record Bundle(String namespace, String id, Path path) {
    static final String CONFIG = "config.json";

    Bundle {
        requireNonNull(namespace, "namespace is null");
        requireNonNull(id, "id is null");
        requireNonNull(path, "path is null");
    }

    /** The bundle of {@code id} in {@code namespace} under {@code state}, whether it exists or not. */
    static Bundle of(Path state, String namespace, String id) {
        return new Bundle(namespace, id, state.resolve(namespace).resolve(id));
    }

    /** Creates the bundle directory with the spec and an empty rootfs directory. */
    static Bundle create(Path state, String namespace, String id, byte[] spec) throws IOException {
        Bundle bundle = of(state, namespace, id);
        Path parent = Files.createDirectories(bundle.path.getParent());
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwx--x--x"));
        try {
            Files.createDirectory(bundle.path);
        } catch (FileAlreadyExistsException e) {
            throw new AlreadyExistsException("task " + namespace + "/" + id + ": bundle " + bundle.path + " already exists");
        }
        try {
            Files.setPosixFilePermissions(bundle.path, PosixFilePermissions.fromString("rwx------"));
            Files.createDirectory(bundle.rootfs());
            Files.setPosixFilePermissions(bundle.rootfs(), PosixFilePermissions.fromString("rwx--x--x"));
            Files.write(bundle.path.resolve(CONFIG), spec);
        } catch (IOException | RuntimeException e) {
            try {
                bundle.delete();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        return bundle;
    }

    Path rootfs() {
        return path.resolve("rootfs");
    }

    Path log() {
        return path.resolve("log");
    }

    Path addressFile() {
        return path.resolve("address");
    }

    Path binaryFile() {
        return path.resolve("shim-binary-path");
    }

    /**
     * Unmounts the rootfs and removes the bundle: renamed to a hidden name first, as containerd does, so that a
     * crash half-way leaves nothing a restart takes for a task. A missing bundle is not an error.
     */
    void delete() {
        Mounts.unmountAll(rootfs());
        Path hidden = path.resolveSibling("." + id);
        try {
            // left by a deletion a crash interrupted
            deleteTree(hidden);
            Files.move(path, hidden);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw new UncheckedIOException("remove bundle " + path, e);
        }
        try {
            deleteTree(hidden);
        } catch (IOException e) {
            throw new UncheckedIOException("remove bundle " + path, e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> tree = Files.walk(root)) {
            for (Path entry : tree.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(entry);
            }
        }
    }
}
