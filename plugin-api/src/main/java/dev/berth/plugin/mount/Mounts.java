package dev.berth.plugin.mount;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.UnimplementedException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Mounts and unmounts {@link Mount}s through the kernel's mount(2) and umount2(2), after
 * containerd's {@code mount} package. Failures are {@code dev.berth.plugin} exceptions carrying the
 * operation, the path and the errno's text; which class depends on the errno ({@code ENOENT} is
 * not found, {@code EINVAL} an invalid argument, {@code EPERM} and {@code EBUSY} a failed
 * precondition, …).
 *
 * <p>These calls are restricted methods of the foreign function API: the JVM must run with
 * {@code --enable-native-access=ALL-UNNAMED} (or the module's name) to use them without a warning.
 */
public final class Mounts {
    /** mount(2) copies at most a page of data; past this the lowerdirs of an overlay are shortened. */
    private static final int PAGE_SIZE = 4096;
    private static final int UNMOUNT_ATTEMPTS = 50;

    /** The flags of umount2(2). */
    public enum UnmountFlag {
        /** {@code MNT_FORCE}: abort pending requests (network filesystems). */
        FORCE(1),
        /** {@code MNT_DETACH}: detach now, release when no longer busy. */
        DETACH(2),
        /** {@code MNT_EXPIRE}: mark as expired. */
        EXPIRE(4),
        /** {@code UMOUNT_NOFOLLOW}: do not follow a symbolic link at the target. */
        NOFOLLOW(8);

        private final int bits;

        UnmountFlag(int bits) {
            this.bits = bits;
        }
    }

    /** Work done while mounts are in place, on the directory they are mounted at. */
    @FunctionalInterface
    public interface MountedAction<T, E extends Exception> {
        T run(Path root) throws E;
    }

    private Mounts() {}

    /** Mounts each of {@code mounts} on {@code target}, in order, as containerd's {@code mount.All}. */
    public static void mount(List<Mount> mounts, Path target) {
        requireNonNull(mounts, "mounts is null");
        requireNonNull(target, "target is null");
        for (Mount mount : mounts) {
            mount(mount, target);
        }
    }

    /**
     * Mounts {@code mount} on {@code target}. A read-only bind mount is made in two steps, a bind
     * then a read-only remount, because the kernel ignores {@code MS_RDONLY} on the bind itself;
     * propagation flags ({@code rprivate}, …) are applied in a call of their own. If a later step
     * fails, the earlier ones are undone.
     */
    public static void mount(Mount mount, Path target) {
        requireNonNull(mount, "mount is null");
        requireNonNull(target, "target is null");
        if (mount.options().contains("loop")) {
            throw new UnimplementedException("mount " + mount.source() + " on " + target + ": loop devices are not supported");
        }
        MountOptions options = MountOptions.parse(mount.options());
        String data = options.data();
        int directory = -1;
        if (mount.type().equals("overlay") && data.length() >= PAGE_SIZE - 512) {
            directory = openCommonLowerParent(data);
            if (directory >= 0) {
                data = shortenLowerdirs(data, directory);
            }
        }
        try {
            if (data.length() > PAGE_SIZE) {
                throw new InvalidArgumentException("mount " + mount.type() + " on " + target
                        + ": options are longer than a page (" + data.length() + " bytes)");
            }
            long flags = options.flags() & ~MountOptions.PROPAGATION;
            boolean mounted = false;
            if (!options.has(MountOptions.MS_REMOUNT) || !data.isEmpty()) {
                check(Syscalls.mount(mount.source(), target, mount.type(), flags, data.isEmpty() ? null : data),
                        "mount " + mount.type() + " " + mount.source() + " on " + target);
                mounted = true;
            }
            try {
                long propagation = options.flags() & MountOptions.PROPAGATION;
                if (propagation != 0) {
                    long bits = options.flags() & (MountOptions.PROPAGATION | MountOptions.MS_REC | MountOptions.MS_SILENT);
                    check(Syscalls.mount("", target, "", bits, null), "set propagation of " + target);
                }
                if (options.has(MountOptions.MS_BIND | MountOptions.MS_RDONLY)) {
                    check(Syscalls.mount("", target, "", flags | MountOptions.MS_REMOUNT, null),
                            "remount " + target + " read-only");
                }
            } catch (RuntimeException e) {
                if (mounted) {
                    int errno = Syscalls.umount2(target, 0);
                    if (errno != 0) {
                        e.addSuppressed(Syscalls.error("unmount " + target, errno));
                    }
                }
                throw e;
            }
        } finally {
            if (directory >= 0) {
                Syscalls.close(directory);
            }
        }
    }

    /**
     * Unmounts the topmost mount at {@code target}, retrying for a while if it is busy, as
     * containerd does. A target that is not a mount point is not an error.
     */
    public static void unmount(Path target, UnmountFlag... flags) {
        int errno = unmountOnce(target, bits(flags));
        if (errno != 0 && errno != Syscalls.EINVAL) {
            throw Syscalls.error("unmount " + target, errno);
        }
    }

    /**
     * Unmounts every mount stacked at {@code target} until none is left. A target that does not
     * exist or is not a mount point is not an error.
     */
    public static void unmountAll(Path target, UnmountFlag... flags) {
        requireNonNull(target, "target is null");
        if (!Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int bits = bits(flags);
        while (true) {
            int errno = unmountOnce(target, bits);
            if (errno == Syscalls.EINVAL) {
                return;
            }
            if (errno != 0) {
                throw Syscalls.error("unmount " + target, errno);
            }
        }
    }

    /**
     * Mounts {@code mounts} on a new directory in the system's temporary directory, runs
     * {@code action} on it, then unmounts everything and removes the directory, whatever happened.
     * A failure to clean up is thrown if {@code action} succeeded, else added to its exception as
     * suppressed.
     */
    public static <T, E extends Exception> T withTempMount(List<Mount> mounts, MountedAction<T, E> action) throws E {
        return withTempMount(Path.of(System.getProperty("java.io.tmpdir")), mounts, action);
    }

    /** {@link #withTempMount(List, MountedAction)} with the temporary directory made in {@code parent}. */
    public static <T, E extends Exception> T withTempMount(Path parent, List<Mount> mounts, MountedAction<T, E> action)
            throws E {
        requireNonNull(parent, "parent is null");
        requireNonNull(mounts, "mounts is null");
        requireNonNull(action, "action is null");
        Path root;
        try {
            root = Files.createTempDirectory(Files.createDirectories(parent), "berth-mount-");
        } catch (IOException e) {
            throw new UncheckedIOException("create a temporary mount point in " + parent, e);
        }
        T result;
        try {
            mount(mounts, root);
            result = action.run(root);
        } catch (Throwable failure) {
            release(root, failure);
            throw failure;
        }
        release(root, null);
        return result;
    }

    /** {@link #withTempMount(Path, List, MountedAction)} of {@link #readOnly} mounts. */
    public static <T, E extends Exception> T withReadOnlyTempMount(Path parent, List<Mount> mounts,
            MountedAction<T, E> action) throws E {
        return withTempMount(parent, readOnly(mounts), action);
    }

    /**
     * The mounts made read-only, as containerd's {@code readonlyMounts}: {@code ro} instead of any
     * {@code rw}/{@code ro}, and an overlay's upper directory moved on top of its lower ones.
     */
    public static List<Mount> readOnly(List<Mount> mounts) {
        List<Mount> result = new ArrayList<>(mounts.size());
        for (Mount mount : mounts) {
            if (mount.type().equals("overlay")) {
                result.add(new Mount(mount.type(), mount.source(), readOnlyOverlay(mount.options())));
            } else {
                List<String> options = new ArrayList<>();
                for (String option : mount.options()) {
                    if (!option.equals("rw") && !option.equals("ro")) {
                        options.add(option);
                    }
                }
                options.add("ro");
                result.add(new Mount(mount.type(), mount.source(), options));
            }
        }
        return List.copyOf(result);
    }

    /**
     * Whether nothing can be written through {@code mount}: it is mounted {@code ro}, or it is an
     * overlay without an upper directory.
     */
    public static boolean isReadOnly(Mount mount) {
        if (MountOptions.parse(mount.options()).has(MountOptions.MS_RDONLY)) {
            return true;
        }
        return mount.type().equals("overlay")
                && mount.options().stream().noneMatch(option -> option.startsWith("upperdir="));
    }

    /** Whether every one of {@code mounts} is {@link #isReadOnly(Mount) read-only}. */
    public static boolean isReadOnly(List<Mount> mounts) {
        return mounts.stream().allMatch(Mounts::isReadOnly);
    }

    private static List<String> readOnlyOverlay(List<String> options) {
        List<String> out = new ArrayList<>();
        String upper = null;
        for (String option : options) {
            if (option.startsWith("upperdir=")) {
                upper = option.substring("upperdir=".length());
            } else if (!option.startsWith("workdir=")) {
                out.add(option);
            }
        }
        if (upper != null) {
            for (int i = 0; i < out.size(); i++) {
                if (out.get(i).startsWith("lowerdir=")) {
                    out.set(i, "lowerdir=" + upper + ":" + out.get(i).substring("lowerdir=".length()));
                }
            }
        }
        return out;
    }

    private static void release(Path root, Throwable primary) {
        try {
            unmountAll(root);
        } catch (RuntimeException e) {
            // The directory still has something mounted on it: leave it rather than risk its contents.
            if (primary == null) {
                throw e;
            }
            primary.addSuppressed(e);
            return;
        }
        try {
            Files.delete(root);
        } catch (IOException e) {
            UncheckedIOException failure = new UncheckedIOException("remove temporary mount point " + root, e);
            if (primary == null) {
                throw failure;
            }
            primary.addSuppressed(failure);
        }
    }

    private static int unmountOnce(Path target, int flags) {
        requireNonNull(target, "target is null");
        for (int attempt = 1; ; attempt++) {
            int errno = Syscalls.umount2(target, flags);
            if (errno != Syscalls.EBUSY || attempt == UNMOUNT_ATTEMPTS) {
                return errno;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return errno;
            }
        }
    }

    private static int bits(UnmountFlag... flags) {
        int bits = 0;
        for (UnmountFlag flag : flags) {
            bits |= flag.bits;
        }
        return bits;
    }

    private static void check(int errno, String context) {
        if (errno != 0) {
            throw Syscalls.error(context, errno);
        }
    }

    /*
     * mount(2) takes at most a page of options, which a deep stack of overlay layers exceeds.
     * containerd forks a child that changes directory to the layers' common parent and passes
     * relative paths; a JVM cannot fork, and changing the directory of the whole process would
     * disturb every other thread. Instead the common parent is opened as an O_PATH descriptor and
     * each layer is named through /proc/self/fd/<n>/, which the kernel resolves during the call.
     */
    private static int openCommonLowerParent(String data) {
        List<String> lowers = lowerdirs(data);
        if (lowers.size() < 2) {
            return -1;
        }
        String common = commonDirectory(lowers);
        if (common == null) {
            return -1;
        }
        int fd = Syscalls.openPath(Path.of(common));
        return fd >= 0 ? fd : -1;
    }

    private static String shortenLowerdirs(String data, int directory) {
        List<String> lowers = lowerdirs(data);
        String common = commonDirectory(lowers);
        String prefix = "/proc/self/fd/" + directory + "/";
        List<String> shortened = new ArrayList<>(lowers.size());
        for (String lower : lowers) {
            shortened.add(prefix + lower.substring(common.length() + 1));
        }
        List<String> out = new ArrayList<>();
        for (String option : data.split(",")) {
            out.add(option.startsWith("lowerdir=") ? "lowerdir=" + String.join(":", shortened) : option);
        }
        return String.join(",", out);
    }

    private static List<String> lowerdirs(String data) {
        for (String option : data.split(",")) {
            if (option.startsWith("lowerdir=")) {
                return Arrays.asList(option.substring("lowerdir=".length()).split(":"));
            }
        }
        return List.of();
    }

    /** The deepest directory (other than {@code /}) containing every path, or null. */
    private static String commonDirectory(List<String> paths) {
        String prefix = paths.getFirst();
        for (String path : paths) {
            int i = 0;
            while (i < prefix.length() && i < path.length() && prefix.charAt(i) == path.charAt(i)) {
                i++;
            }
            prefix = prefix.substring(0, i);
        }
        int slash = prefix.lastIndexOf('/');
        if (slash <= 0) {
            return null;
        }
        String common = prefix.substring(0, slash);
        for (String path : paths) {
            if (!path.startsWith(common + "/") || path.length() == common.length() + 1) {
                return null;
            }
        }
        return common;
    }
}
