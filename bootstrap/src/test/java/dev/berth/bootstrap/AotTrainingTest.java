package dev.berth.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The training behind the AOT cache, against a real daemon and its client in a JVM of its own: a call of
 * the client that fails (a workload no longer valid for the daemon) fails the training, and with it this
 * test, where the build would only warn and go without the cache.
 */
class AotTrainingTest {
    @Test
    void theWorkloadRunsAgainstTheDaemon() throws Exception {
        assertEquals(Berthd.OK, AotTraining.run(BuildInfo.load(), Host.current(), 3));
    }
}
