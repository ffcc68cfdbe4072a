package dev.berth.plugins.metadata;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.metadata.GcScheduler;
import dev.berth.plugin.metadata.GcStats;
import dev.berth.plugin.metadata.MetadataStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * containerd's garbage collection scheduler: collections run when requested, after enough
 * deletions or writes, and otherwise no more often than the pause threshold allows. Its delays run
 * on the monotonic clock; the store's injected clock decides what has expired.
 */
public final class Scheduler implements GcScheduler, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Scheduler.class);

    /** A write (mutation, dirty if it deleted) or a request for a collection. */
    private record Event(long at, boolean mutation, boolean dirty) {}

    private final MetadataStore store;
    private final double pauseThreshold;
    private final int deletionThreshold;
    private final int mutationThreshold;
    private final long scheduleDelay;
    private final long startupDelay;
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    /** Held during a collection, so a waiter added meanwhile is served by the next one. */
    private final ReentrantLock waiterLock = new ReentrantLock();
    private List<CompletableFuture<GcStats>> waiters = new ArrayList<>();
    private final Thread loop;
    private volatile boolean closed;

    public Scheduler(MetadataStore store, GcConfig config) {
        this.store = requireNonNull(store, "store is null");
        requireNonNull(config, "config is null");
        pauseThreshold = Math.clamp(config.pauseThreshold(), 0.0, 0.5);
        deletionThreshold = config.deletionThreshold();
        mutationThreshold = Math.max(0, config.mutationThreshold());
        scheduleDelay = Math.max(0, config.scheduleDelay().toNanos());
        startupDelay = Math.max(0, config.startupDelay().toNanos());
        store.onMutation(dirty -> events.add(new Event(System.nanoTime(), true, dirty)));
        loop = Thread.ofPlatform().name("berth-gc-scheduler").daemon().start(this::run);
    }

    @Override
    public GcStats scheduleAndWait() throws InterruptedException {
        CompletableFuture<GcStats> waiter = new CompletableFuture<>();
        waiterLock.lockInterruptibly();
        try {
            if (closed) {
                throw BerthException.of(BerthException.Kind.UNAVAILABLE, "gc scheduler stopped");
            }
            waiters.add(waiter);
        } finally {
            waiterLock.unlock();
        }
        events.add(new Event(System.nanoTime(), false, false));
        try {
            return waiter.get();
        } catch (ExecutionException e) {
            throw (BerthException) BerthException.of(BerthException.Kind.UNAVAILABLE, "gc failed: " + e.getCause().getMessage())
                    .initCause(e.getCause());
        }
    }

    private void run() {
        Long next = startupDelay > 0 ? System.nanoTime() + startupDelay : null;
        Long last = null;
        long interval = TimeUnit.SECONDS.toNanos(1);
        long gcTime = 0;
        int collections = 0;
        boolean triggered = false;
        int deletions = 0;
        int mutations = 0;
        while (!closed) {
            Event event;
            try {
                event = next == null ? events.take() : events.poll(next - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                break;
            }
            if (event == null) {
                // the scheduled time came: skip if nothing asks for a collection, and look again later
                if (!triggered && last != null && deletions == 0 && (mutationThreshold == 0 || mutations < mutationThreshold)) {
                    next = System.nanoTime() + interval;
                    continue;
                }
            } else {
                if (last != null && last - event.at() > 0) {
                    continue;
                }
                if (event.dirty()) {
                    deletions++;
                }
                if (event.mutation()) {
                    mutations++;
                } else {
                    triggered = true;
                }
                if (triggered || (deletionThreshold > 0 && deletions >= deletionThreshold)
                        || (next == null && ((deletionThreshold == 0 && deletions > 0)
                                || (mutationThreshold > 0 && mutations >= mutationThreshold)))) {
                    long soonest = System.nanoTime() + scheduleDelay;
                    if (next == null || next - soonest > 0) {
                        next = soonest;
                    }
                }
                continue;
            }
            waiterLock.lock();
            try {
                List<CompletableFuture<GcStats>> served = waiters;
                waiters = new ArrayList<>();
                try {
                    GcStats stats = store.collectGarbage();
                    gcTime += stats.metadata().toNanos();
                    collections++;
                    triggered = false;
                    deletions = 0;
                    mutations = 0;
                    if (pauseThreshold > 0.0) {
                        // space collections so that their pauses take at most the threshold of real time
                        double average = (double) gcTime / collections;
                        interval = (long) (average / pauseThreshold - average);
                    }
                    last = System.nanoTime();
                    next = last + interval;
                    served.forEach(w -> w.complete(stats));
                } catch (RuntimeException e) {
                    log.error("garbage collection failed", e);
                    long now = System.nanoTime();
                    next = now + (last == null ? interval : next - last) + TimeUnit.SECONDS.toNanos(1);
                    last = now;
                    served.forEach(w -> w.completeExceptionally(e));
                }
            } finally {
                waiterLock.unlock();
            }
        }
        failWaiters();
    }

    private void failWaiters() {
        waiterLock.lock();
        try {
            closed = true;
            waiters.forEach(w -> w.completeExceptionally(new IllegalStateException("gc scheduler stopped")));
            waiters = new ArrayList<>();
        } finally {
            waiterLock.unlock();
        }
    }

    /** The settings in effect, after containerd's clamping, for introspection. */
    Duration scheduleDelay() {
        return Duration.ofNanos(scheduleDelay);
    }

    double pauseThreshold() {
        return pauseThreshold;
    }

    int deletionThreshold() {
        return deletionThreshold;
    }

    int mutationThreshold() {
        return mutationThreshold;
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        loop.interrupt();
        loop.join();
        failWaiters();
    }
}
