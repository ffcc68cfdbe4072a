package dev.berth.plugin.snapshots.storage;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The file calls a faithful copy needs and the JDK lacks: mknod(2) for special files and the
 * {@code l*xattr} family for every extended attribute namespace (the JDK reaches only
 * {@code user.*}, but {@code security.capability} matters as much).
 */
final class Posix {
    private static final int ENODATA = 61;
    private static final int EOPNOTSUPP = 95;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle MKNOD = function("mknod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle LLISTXATTR = function("llistxattr",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle LGETXATTR = function("lgetxattr",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle LSETXATTR = function("lsetxattr",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FCHMODAT = function("fchmodat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle UTIMENSAT = function("utimensat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LINKER.defaultLookup().find("strerror").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_INT));

    /** An extended attribute. */
    record Xattr(String name, byte[] value) {}

    private Posix() {}

    private static MethodHandle function(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, CAPTURE_ERRNO);
    }

    /** Creates a FIFO, socket or device node with the full {@code st_mode} and {@code st_rdev} of the original. */
    static void mknod(Path path, int mode, long device) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int result = (int) MKNOD.invokeExact(state, arena.allocateFrom(path.toString()), mode, device);
            if (result != 0) {
                throw failure("mknod " + path, errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * chmod(2) by path. The JDK sets a mode by opening the file first, which blocks forever on a
     * FIFO without a writer; this never opens it.
     */
    static void chmod(Path path, int mode) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int result = (int) FCHMODAT.invokeExact(state, AT_FDCWD, arena.allocateFrom(path.toString()), mode, 0);
            if (result != 0) {
                throw failure("chmod " + path, errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Sets the access and modification times of {@code path} itself, never opening it (see
     * {@link #chmod}) and not following a symbolic link.
     */
    static void setTimes(Path path, java.time.Instant accessed, java.time.Instant modified) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment times = arena.allocate(JAVA_LONG, 4);
            times.setAtIndex(JAVA_LONG, 0, accessed.getEpochSecond());
            times.setAtIndex(JAVA_LONG, 1, accessed.getNano());
            times.setAtIndex(JAVA_LONG, 2, modified.getEpochSecond());
            times.setAtIndex(JAVA_LONG, 3, modified.getNano());
            int result = (int) UTIMENSAT.invokeExact(state, AT_FDCWD, arena.allocateFrom(path.toString()), times,
                    AT_SYMLINK_NOFOLLOW);
            if (result != 0) {
                throw failure("set times of " + path, errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The extended attributes of {@code path} itself (not of a link's target); none where unsupported. */
    static List<Xattr> xattrs(Path path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment file = arena.allocateFrom(path.toString());
            long size = (long) LLISTXATTR.invokeExact(state, file, MemorySegment.NULL, 0L);
            if (size < 0) {
                int errno = errno(state);
                if (errno == EOPNOTSUPP) {
                    return List.of();
                }
                throw failure("list extended attributes of " + path, errno);
            }
            if (size == 0) {
                return List.of();
            }
            MemorySegment names = arena.allocate(size);
            size = (long) LLISTXATTR.invokeExact(state, file, names, size);
            if (size < 0) {
                // The list grew between the two calls; the copy is of a tree nobody changes.
                throw failure("list extended attributes of " + path, errno(state));
            }
            List<Xattr> xattrs = new ArrayList<>();
            long offset = 0;
            while (offset < size) {
                String name = names.getString(offset);
                offset += name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1;
                MemorySegment key = arena.allocateFrom(name);
                long length = (long) LGETXATTR.invokeExact(state, file, key, MemorySegment.NULL, 0L);
                if (length < 0) {
                    if (errno(state) == ENODATA) {
                        continue;
                    }
                    throw failure("read extended attribute " + name + " of " + path, errno(state));
                }
                MemorySegment value = arena.allocate(Math.max(length, 1));
                length = (long) LGETXATTR.invokeExact(state, file, key, value, length);
                if (length < 0) {
                    throw failure("read extended attribute " + name + " of " + path, errno(state));
                }
                xattrs.add(new Xattr(name, value.asSlice(0, length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
            }
            return xattrs;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Sets an extended attribute on {@code path} itself. */
    static void setXattr(Path path, Xattr xattr) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment value = arena.allocate(Math.max(xattr.value().length, 1));
            MemorySegment.copy(xattr.value(), 0, value, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, xattr.value().length);
            int result = (int) LSETXATTR.invokeExact(state, arena.allocateFrom(path.toString()),
                    arena.allocateFrom(xattr.name()), value, (long) xattr.value().length, 0);
            if (result != 0) {
                throw failure("set extended attribute " + xattr.name() + " on " + path, errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static IOException failure(String context, int errno) {
        String text;
        try {
            text = ((MemorySegment) STRERROR.invokeExact(errno)).reinterpret(1024).getString(0);
        } catch (Throwable t) {
            text = "errno " + errno;
        }
        return new IOException(context + ": " + text);
    }
}
