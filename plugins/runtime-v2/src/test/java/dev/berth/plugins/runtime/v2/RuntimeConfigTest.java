package dev.berth.plugins.runtime.v2;

import static dev.berth.config.testing.ConfigAssertions.assertFullMapping;
import static dev.berth.config.testing.ConfigAssertions.assertRecordedDefaults;

import dev.berth.plugins.runtime.v2.RuntimeConfig.RuncOptions;
import dev.berth.plugins.runtime.v2.RuntimeConfig.ShimConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RuntimeConfigTest {
    private static final String PATH = "plugins.\"io.containerd.runtime.v2.task\"";

    @Test
    void defaultsAreContainerds() {
        assertRecordedDefaults(RuntimeConfig.class, PATH, new RuntimeConfig(List.of(), false, "berthd",
                Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(3),
                Map.of("io.containerd.runc.v2", new ShimConfig(Optional.of("containerd-shim-runc-v2"),
                        Optional.of(new RuncOptions(Optional.empty(), Optional.empty(), Optional.of(false),
                                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty()))))),
                getClass().getClassLoader());
    }

    @Test
    void everyKeyMaps() {
        assertFullMapping(RuntimeConfig.class, PATH, """
                platforms = ["linux/arm64"]
                sched-core = true
                publish-binary = "/usr/bin/berthd"
                load-timeout = 7s
                cleanup-timeout = 8s
                shutdown-timeout = 9s
                runtimes {
                  "io.containerd.runc.v2" {
                    runc-options {
                      binary-name = "/usr/local/bin/crun"
                      root = "/run/berth/runc"
                      systemd-cgroup = true
                      no-pivot-root = true
                      no-new-keyring = true
                      criu-path = "/usr/sbin/criu"
                      shim-cgroup = "/berth/shims"
                    }
                  }
                  "io.containerd.other.v1" { shim = "/opt/shims/containerd-shim-other-v1" }
                }
                """,
                new RuntimeConfig(List.of("linux/arm64"), true, "/usr/bin/berthd",
                        Duration.ofSeconds(7), Duration.ofSeconds(8), Duration.ofSeconds(9),
                        Map.of("io.containerd.runc.v2", new ShimConfig(Optional.of("containerd-shim-runc-v2"),
                                        Optional.of(new RuncOptions(Optional.of("/usr/local/bin/crun"),
                                                Optional.of("/run/berth/runc"), Optional.of(true), Optional.of(true),
                                                Optional.of(true), Optional.of("/usr/sbin/criu"),
                                                Optional.of("/berth/shims")))),
                                "io.containerd.other.v1", new ShimConfig(
                                        Optional.of("/opt/shims/containerd-shim-other-v1"), Optional.empty()))),
                getClass().getClassLoader());
    }
}
