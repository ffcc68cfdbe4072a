package dev.berth.plugin.metadata;

/** The garbage collection scheduler ({@code io.containerd.gc.v1}). */
public interface GcScheduler {

    /**
     * Schedules a collection (after the configured schedule delay) and waits for it to finish.
     *
     * @return the statistics of a collection that started after this call
     * @throws dev.berth.plugin.UnavailableException if that collection failed or the scheduler stopped
     * @throws InterruptedException                  if interrupted while waiting
     */
    GcStats scheduleAndWait() throws InterruptedException;
}
