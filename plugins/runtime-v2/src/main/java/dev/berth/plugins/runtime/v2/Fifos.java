package dev.berth.plugins.runtime.v2;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

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

/** mkfifo(3), which the JDK lacks, through the foreign function API. */
final class Fifos {
    private static final int EEXIST = 17;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle MKFIFO = LINKER.downcallHandle(
            LINKER.defaultLookup().find("mkfifo").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LINKER.defaultLookup().find("strerror").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Fifos() {}

    /** Creates a FIFO at {@code path} with {@code mode} (before the umask); an existing one is left as it is. */
    static void create(Path path, int mode) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int result = (int) MKFIFO.invokeExact(state, arena.allocateFrom(path.toString()), mode);
            if (result != 0) {
                int errno = (int) ERRNO.get(state, 0L);
                if (errno != EEXIST) {
                    throw new IOException("mkfifo " + path + ": " + strerror(errno) + " (errno " + errno + ")");
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("mkfifo " + path, e);
        }
    }

    private static String strerror(int errno) throws Throwable {
        MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
        return text.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
