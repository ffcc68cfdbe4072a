package dev.berth.plugins.runtime.v2;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a shim's log, the FIFO {@code log} in its bundle, into the daemon's log, as containerd copies it to its
 * stderr. The FIFO is opened for reading and writing, as containerd opens it: the open does not wait for the shim,
 * and the copy does not end when a shim closes its end (a shim reopens it after a daemon restart). Closing the
 * channel ends the blocked read, so the copy can be stopped whatever state the shim is in.
 */
final class ShimLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("dev.berth.plugins.runtime.v2.shim");

    private final FileChannel channel;
    private final Thread thread;

    private ShimLog(FileChannel channel, Thread thread) {
        this.channel = channel;
        this.thread = thread;
    }

    /** Creates the FIFO at {@code fifo} if needed and starts copying it, each line tagged with {@code name}. */
    static ShimLog open(Path fifo, String name) throws IOException {
        Fifos.create(fifo, 0700);
        FileChannel channel = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE);
        // a platform thread: closing the channel signals the thread blocked in read(2), which it must own
        Thread thread = Thread.ofPlatform().daemon().name("shim-log-" + name).unstarted(() -> copy(channel, name));
        thread.start();
        return new ShimLog(channel, thread);
    }

    private static void copy(FileChannel channel, String name) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                // the shim logs in logfmt; its warnings and errors are the daemon's, the rest is detail
                if (line.contains("level=error") || line.contains("level=fatal") || line.contains("level=warn")) {
                    log.warn("shim {}: {}", name, line);
                } else {
                    log.debug("shim {}: {}", name, line);
                }
            }
        } catch (IOException e) {
            // closed by close(): the end of the copy
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (IOException e) {
            log.debug("closing shim log", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
