package dev.berth.plugin.mount;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.UnavailableException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * The few libc calls the JDK lacks, through the foreign function API. Each call returns 0 or the
 * errno it failed with; callers turn an errno into an exception with {@link #error}.
 */
final class Syscalls {
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int ENOMEM = 12;
    static final int EACCES = 13;
    static final int EBUSY = 16;
    static final int EEXIST = 17;
    static final int ENOTDIR = 20;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;

    private static final int O_DIRECTORY = 0x10000;
    private static final int O_CLOEXEC = 0x80000;
    private static final int O_PATH = 0x200000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle MOUNT = function("mount",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle UMOUNT2 = function("umount2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle OPEN = function("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = function("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle STRERROR = function("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Syscalls() {}

    private static MethodHandle function(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /** mount(2); {@code null} strings are passed as NULL. Returns 0 or the errno. */
    static int mount(String source, Path target, String type, long flags, String data) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int result = (int) MOUNT.invokeExact(state, string(arena, source), string(arena, target.toString()),
                    string(arena, type), flags, string(arena, data));
            return result == 0 ? 0 : (int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** umount2(2). Returns 0 or the errno. */
    static int umount2(Path target, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int result = (int) UMOUNT2.invokeExact(state, arena.allocateFrom(target.toString()), flags);
            return result == 0 ? 0 : (int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Opens a directory as an {@code O_PATH} descriptor, which names it without granting access to
     * its contents; negative values are {@code -errno}.
     */
    static int openPath(Path directory) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(directory.toString()),
                    O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
            return fd >= 0 ? fd : -(int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The C library's text for an errno, e.g. {@code No such file or directory}. */
    static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The exception of the class that fits {@code errno}, with the errno's text after {@code context}. */
    static BerthException error(String context, int errno) {
        String message = context + ": " + strerror(errno) + " (errno " + errno + ")";
        return switch (errno) {
            case ENOENT, ENOTDIR -> new NotFoundException(message);
            case EEXIST -> new AlreadyExistsException(message);
            case EINVAL -> new InvalidArgumentException(message);
            case EAGAIN, EINTR, ENOMEM, ENOSPC -> new UnavailableException(message);
            default -> new FailedPreconditionException(message);
        };
    }

    private static MemorySegment string(Arena arena, String value) {
        return value == null ? MemorySegment.NULL : arena.allocateFrom(value);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException runtime) {
            return runtime;
        }
        if (t instanceof Error error) {
            throw error;
        }
        return new IllegalStateException(t);
    }
}
