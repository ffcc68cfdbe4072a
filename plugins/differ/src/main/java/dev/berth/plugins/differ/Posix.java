package dev.berth.plugins.differ;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The few Linux calls the JDK lacks for unpacking layers: mknod, the l*xattr family and geteuid. */
final class Posix {

    static final int ENODATA = 61;
    static final int ENOTSUP = 95;
    static final int EPERM = 1;
    static final int ERANGE = 34;

    static final int S_IFIFO = 0010000;
    static final int S_IFCHR = 0020000;
    static final int S_IFBLK = 0060000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle GETEUID = handle("geteuid", FunctionDescriptor.of(ValueLayout.JAVA_INT), false);
    private static final MethodHandle MKNOD = handle("mknod",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG), true);
    private static final MethodHandle LCHOWN = handle("lchown",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), true);
    private static final MethodHandle CHMOD = handle("chmod",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), true);
    private static final MethodHandle UTIMENSAT = handle("utimensat", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), true);
    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final MethodHandle LSETXATTR = handle("lsetxattr", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT), true);
    private static final MethodHandle LGETXATTR = handle("lgetxattr", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG), true);
    private static final MethodHandle LLISTXATTR = handle("llistxattr", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG), true);

    private Posix() {}

    /** A failed call, with its errno. */
    static final class ErrnoException extends IOException {
        final int errno;

        ErrnoException(String call, Path path, int errno) {
            super(call + " " + path + ": errno " + errno);
            this.errno = errno;
        }
    }

    static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("geteuid failed", t);
        }
    }

    /** Linux's {@code makedev}, as glibc encodes it. */
    static long makedev(long major, long minor) {
        return (major & 0xfffff000L) << 32 | (major & 0xfffL) << 8 | (minor & 0xffffff00L) << 12 | (minor & 0xffL);
    }

    static long major(long dev) {
        return (dev >>> 32 & 0xfffff000L) | (dev >>> 8 & 0xfffL);
    }

    static long minor(long dev) {
        return (dev >>> 12 & 0xffffff00L) | (dev & 0xffL);
    }

    static void mknod(Path path, int mode, long dev) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) MKNOD.invokeExact(state, cPath(arena, path), mode, dev);
            check(rc, "mknod", path, state);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Sets owner and group in one call, never following a symlink. */
    static void lchown(Path path, long uid, long gid) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) LCHOWN.invokeExact(state, cPath(arena, path), (int) uid, (int) gid);
            check(rc, "lchown", path, state);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Sets the mode, setuid, setgid and sticky bits included. Unlike the JDK's {@code unix:mode},
     * which opens the file to change it, this never blocks on a FIFO. The caller ensures the path
     * is not a symlink.
     */
    static void chmod(Path path, int mode) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) CHMOD.invokeExact(state, cPath(arena, path), mode);
            check(rc, "chmod", path, state);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Sets access and modification times of the path itself, a symlink's included, without opening it. */
    static void lutimes(Path path, java.time.Instant atime, java.time.Instant mtime) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment times = arena.allocate(ValueLayout.JAVA_LONG, 4);
            times.setAtIndex(ValueLayout.JAVA_LONG, 0, atime.getEpochSecond());
            times.setAtIndex(ValueLayout.JAVA_LONG, 1, atime.getNano());
            times.setAtIndex(ValueLayout.JAVA_LONG, 2, mtime.getEpochSecond());
            times.setAtIndex(ValueLayout.JAVA_LONG, 3, mtime.getNano());
            int rc = (int) UTIMENSAT.invokeExact(state, AT_FDCWD, cPath(arena, path), times, AT_SYMLINK_NOFOLLOW);
            check(rc, "utimensat", path, state);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void lsetxattr(Path path, String name, byte[] value) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment data = arena.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, data, ValueLayout.JAVA_BYTE, 0, value.length);
            int rc = (int) LSETXATTR.invokeExact(state, cPath(arena, path), arena.allocateFrom(name),
                    data, (long) value.length, 0);
            check(rc, "lsetxattr " + name, path, state);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The value of one attribute, or empty if the file has none of that name. */
    static Optional<byte[]> lgetxattr(Path path, String name) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment cpath = cPath(arena, path);
            MemorySegment cname = arena.allocateFrom(name);
            for (long capacity = 256; ; capacity *= 4) {
                MemorySegment buffer = arena.allocate(capacity);
                long n = (long) LGETXATTR.invokeExact(state, cpath, cname, buffer, capacity);
                if (n >= 0) {
                    return Optional.of(buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
                }
                int errno = (int) ERRNO.get(state, 0L);
                if (errno == ENODATA || errno == ENOTSUP) {
                    return Optional.empty();
                }
                if (errno != ERANGE || capacity > 1 << 20) {
                    throw new ErrnoException("lgetxattr " + name, path, errno);
                }
            }
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The names of the file's attributes (those the caller may see). */
    static List<String> llistxattr(Path path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment cpath = cPath(arena, path);
            for (long capacity = 1024; ; capacity *= 4) {
                MemorySegment buffer = arena.allocate(capacity);
                long n = (long) LLISTXATTR.invokeExact(state, cpath, buffer, capacity);
                if (n >= 0) {
                    List<String> names = new ArrayList<>();
                    byte[] raw = buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                    int start = 0;
                    for (int i = 0; i < raw.length; i++) {
                        if (raw[i] == 0) {
                            if (i > start) {
                                names.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                            }
                            start = i + 1;
                        }
                    }
                    return names;
                }
                int errno = (int) ERRNO.get(state, 0L);
                if (errno == ENOTSUP) {
                    return List.of();
                }
                if (errno != ERANGE || capacity > 1 << 20) {
                    throw new ErrnoException("llistxattr", path, errno);
                }
            }
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static void check(int rc, String call, Path path, MemorySegment state) throws ErrnoException {
        if (rc != 0) {
            throw new ErrnoException(call, path, (int) ERRNO.get(state, 0L));
        }
    }

    private static MemorySegment cPath(Arena arena, Path path) {
        // file names are bytes; the JDK maps them through sun.jnu.encoding, so do the same here
        return arena.allocateFrom(path.toString(), jnuCharset());
    }

    private static java.nio.charset.Charset jnuCharset() {
        String name = System.getProperty("sun.jnu.encoding");
        try {
            return name == null ? StandardCharsets.UTF_8 : java.nio.charset.Charset.forName(name);
        } catch (IllegalArgumentException e) {
            return StandardCharsets.UTF_8;
        }
    }

    private static MethodHandle handle(String name, FunctionDescriptor descriptor, boolean errno) {
        SymbolLookup libc = LINKER.defaultLookup();
        MemorySegment symbol = libc.find(name).orElseThrow(() -> new IllegalStateException("libc lacks " + name));
        return errno
                ? LINKER.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"))
                : LINKER.downcallHandle(symbol, descriptor);
    }
}
