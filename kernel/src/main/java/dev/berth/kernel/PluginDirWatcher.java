package dev.berth.kernel;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import dev.berth.plugin.BerthException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads jars copied into the plugin directories and unloads those removed. A jar is loaded once its
 * size has stopped changing and it opens as a complete zip, so a copy in progress is not loaded half
 * written.
 */
final class PluginDirWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PluginDirWatcher.class);
    private static final long SETTLE_MILLIS = 300;

    private final WatchService service;
    private final Kernel kernel;
    private final Map<Path, Long> settling = new HashMap<>();
    private final Thread thread;

    private PluginDirWatcher(WatchService service, Kernel kernel) {
        this.service = service;
        this.kernel = kernel;
        this.thread = Thread.ofPlatform().name("berth-plugin-dirs").daemon().unstarted(this::run);
    }

    static PluginDirWatcher start(List<Path> dirs, Kernel kernel) {
        try {
            WatchService service = FileSystems.getDefault().newWatchService();
            for (Path dir : dirs) {
                Files.createDirectories(dir);
                dir.register(service, ENTRY_CREATE, ENTRY_MODIFY, ENTRY_DELETE);
            }
            PluginDirWatcher watcher = new PluginDirWatcher(service, kernel);
            watcher.thread.start();
            return watcher;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot watch plugin directories " + dirs, e);
        }
    }

    static boolean isJar(Path path) {
        return path.getFileName().toString().endsWith(".jar") && !Files.isDirectory(path);
    }

    private void run() {
        try {
            while (true) {
                WatchKey key = service.poll(settling.isEmpty() ? 1000 : SETTLE_MILLIS, TimeUnit.MILLISECONDS);
                if (key != null) {
                    Path dir = (Path) key.watchable();
                    for (WatchEvent<?> event : key.pollEvents()) {
                        if (event.kind() == OVERFLOW) {
                            continue;
                        }
                        Path path = dir.resolve((Path) event.context()).toAbsolutePath().normalize();
                        if (!path.getFileName().toString().endsWith(".jar")) {
                            continue;
                        }
                        if (event.kind() == ENTRY_DELETE) {
                            settling.remove(path);
                            apply(() -> kernel.unload(path), "unload", path);
                        } else {
                            settling.put(path, -1L);
                        }
                    }
                    key.reset();
                }
                settle();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closing
        }
    }

    /** Loads each pending jar whose size is unchanged since the last look and that opens whole. */
    private void settle() {
        for (var iterator = settling.entrySet().iterator(); iterator.hasNext(); ) {
            var entry = iterator.next();
            Path path = entry.getKey();
            long size;
            try {
                size = Files.size(path);
            } catch (IOException e) {
                iterator.remove();
                continue;
            }
            if (size != entry.getValue()) {
                entry.setValue(size);
                continue;
            }
            if (!completeZip(path)) {
                continue;
            }
            iterator.remove();
            // a jar replaced in place is reloaded: its old plugins go first (refused if others need them)
            apply(() -> {
                if (kernel.hasJar(path)) {
                    kernel.unload(path);
                }
                kernel.load(path);
            }, "load", path);
        }
    }

    private static boolean completeZip(Path path) {
        try (ZipFile zip = new ZipFile(path.toFile())) {
            return zip.size() >= 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static void apply(Runnable change, String what, Path path) {
        try {
            change.run();
        } catch (BerthException e) {
            log.warn("cannot {} {}: {}", what, path, e.getMessage());
        } catch (RuntimeException e) {
            log.warn("cannot {} {}", what, path, e);
        }
    }

    @Override
    public void close() {
        try {
            service.close();
        } catch (IOException e) {
            log.debug("closing the plugin directory watcher", e);
        }
        thread.interrupt();
    }
}
