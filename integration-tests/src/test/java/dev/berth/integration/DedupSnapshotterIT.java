package dev.berth.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.berth.sample.dedup.v1.PoolGrpc;
import dev.berth.sample.dedup.v1.StatsRequest;
import dev.berth.sample.dedup.v1.StatsResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The sample vendor snapshotter {@code dedup}, a jar in berthd's plugin dir and nowhere on its
 * class path, used through the real {@code ctr} exactly as a built-in one: listed by introspection
 * with its jar as origin, {@code ctr snapshots --snapshotter dedup} end to end, an image imported
 * and unpacked into it twice with its files stored once, and its pool as the daemon finds it after
 * a restart; and the jar's own gRPC service, served on the daemon's socket beside containerd's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DedupSnapshotterIT {
    /**
     * ctr's snapshot commands take no lease, so what they make is garbage to a collection; a
     * collection runs on its own once anything was deleted, so every snapshot kept is labelled a root.
     */
    private static final String ROOT = "containerd.io/gc.root=it";
    private static final String TYPE = "io.containerd.snapshotter.v1";
    private static final String DEDUP = "dedup";
    private static final String GRPC = "io.containerd.grpc.v1";
    private static final String IMAGE = "registry.test/busybox:latest";
    private static final int PAYLOAD = 256 * 1024;

    private Berthd berthd;
    private Path jar;

    @BeforeAll
    void start() {
        Ctr.requireInstalled();
        berthd = new Berthd();
        jar = berthd.install(sampleJar());
        berthd.writeConfig(berthd.baseConfig() + Berthd.GC_ON_REQUEST).start();
    }

    @AfterAll
    void stop() {
        if (berthd != null) {
            berthd.close();
        }
    }

    @Test
    @Order(1)
    void listedAsASnapshotterLoadedFromItsJar() {
        Ctr.Row row = berthd.ctr().plugins("id==" + DEDUP).stream().filter(r -> r.type().equals(TYPE)).findFirst()
                .orElseThrow(() -> new AssertionError("dedup is not listed:\n" + berthd.ctr().succeed("plugins", "ls")));
        assertEquals("ok", row.status(), () -> berthd.ctr().succeed("plugins", "ls", "-d", "id==" + DEDUP) + berthd.logs());
        Ctr.Row service = berthd.ctr().plugins("id==" + DEDUP).stream().filter(r -> r.type().equals(GRPC)).findFirst()
                .orElseThrow(() -> new AssertionError("the jar's gRPC service is not listed:\n"
                        + berthd.ctr().succeed("plugins", "ls")));
        assertEquals("ok", service.status(), berthd::logs);
        Ctr.Detail detail = detail(berthd);
        assertEquals(jar.toString(), detail.exports().get("origin"), detail::toString);
        assertEquals(pluginRoot(berthd.dir().resolve("root")).toString(), detail.exports().get("root"), detail::toString);
        assertEquals("0", detail.exports().get("pool-files"), "a new daemon starts with an empty pool");

        Path lib = Path.of(Berthd.property("berth.dist"), "lib");
        try (Stream<Path> jars = Files.list(lib)) {
            assertTrue(jars.noneMatch(file -> file.getFileName().toString().contains(DEDUP)),
                    "the sample must not be on the daemon's class path " + lib);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    @Order(2)
    void snapshotsThroughCtrShareUnchangedFiles() throws Exception {
        SnapshotCtr ctr = new SnapshotCtr(berthd.ctr(), "dedup-snapshots");
        Path work = Files.createDirectories(berthd.dir().resolve("work"));

        ctr.succeed("prepare", "base-active");
        withMounted(ctr, work.resolve("base"), "base-active", root -> {
            Files.writeString(root.resolve("base.txt"), "from base\n");
            Files.write(root.resolve("payload"), payload());
        });
        ctr.succeed("commit", "base", "base-active");
        ctr.succeed("label", "base", ROOT);

        ctr.succeed("view", "base-view", "base");
        ctr.succeed("label", "base-view", ROOT);
        assertTrue(ctr.succeed("mounts", work.resolve("v").toString(), "base-view").contains("ro"),
                "a view's mounts are read-only");
        withMounted(ctr, work.resolve("view"), "base-view", root -> {
            assertEquals("from base\n", Files.readString(root.resolve("base.txt")));
            assertThrows(root.resolve("written-to-a-view"));
        });

        ctr.succeed("prepare", "child-active", "base");
        withMounted(ctr, work.resolve("child"), "child-active", root -> {
            assertEquals("from base\n", Files.readString(root.resolve("base.txt")));
            assertEquals(1, links(root.resolve("payload")), "a writable snapshot has its own copy of each file");
            Files.writeString(root.resolve("child.txt"), "from child\n");
            Files.delete(root.resolve("base.txt"));
        });
        ctr.succeed("commit", "child", "child-active");
        ctr.succeed("label", "child", ROOT);

        String list = ctr.succeed("ls");
        assertTrue(list.lines().anyMatch(l -> l.matches("base\\s+Committed\\s*")), list);
        assertTrue(list.lines().anyMatch(l -> l.matches("child\\s+base\\s+Committed\\s*")), list);
        assertTrue(list.lines().anyMatch(l -> l.matches("base-view\\s+base\\s+View\\s*")), list);
        String info = ctr.succeed("info", "child");
        assertTrue(info.contains("\"Name\": \"child\"") && info.contains("\"Parent\": \"base\""), info);
        assertTrue(info.contains("\"Kind\": \"Committed\""), info);

        // usage is the apparent size: the child counts the payload it shares with base
        for (String key : List.of("base", "child")) {
            String usage = ctr.succeed("usage", "-b", key);
            long size = Long.parseLong(usage.lines().skip(1).findFirst().orElseThrow().trim().split("\\s+")[1]);
            assertTrue(size >= PAYLOAD, usage);
        }

        // on disk the payload of base and child is one pool file: its own link and one per snapshot
        Path pool = pluginRoot(berthd.dir().resolve("root")).resolve("pool");
        Path pooled = poolFileOfSize(pool, PAYLOAD);
        assertEquals(3, links(pooled), "the pool file, base's payload and child's payload");

        Exec.Result refused = ctr.run("rm", "base");
        assertNotEquals(0, refused.exitCode(), refused::toString);
        assertTrue(refused.stderr().contains("failed precondition") || refused.stderr().contains("children"),
                refused::toString);
        assertTrue(ctr.succeed("ls").contains("base"));

        // as in containerd, rm forgets the snapshot in its namespace and a collection removes it
        ctr.succeed("rm", "child");
        ctr.succeed("rm", "base-view");
        collect(ctr);
        assertEquals(2, links(pooled), "removing child dropped its link");
        ctr.succeed("rm", "base");
        collect(ctr);
        assertFalse(Files.exists(pooled, LinkOption.NOFOLLOW_LINKS), "no snapshot uses the payload any more");
        assertEquals(1, ctr.succeed("ls").lines().count(), "only the header is left");
    }

    @Test
    @Order(3)
    void imageUnpackedTwiceIsStoredOnceAndMountsWithBusybox() throws Exception {
        requireInstalled(OciArchive.UMOCI, "umoci");
        requireInstalled(OciArchive.BUSYBOX, "busybox-static");
        Ctr ctr = berthd.ctr();
        Path work = Files.createDirectories(berthd.dir().resolve("image-work"));
        Path archive = OciArchive.busybox(work.resolve("image")).file();

        for (String ns : List.of("dedup-images", "dedup-images-again")) {
            String imported = ctr.succeed("-n", ns, "images", "import", "--snapshotter", DEDUP,
                    "--base-name", "registry.test/busybox", archive.toString());
            assertTrue(imported.contains("unpacking " + IMAGE) && imported.contains("done"), imported);
            String check = ctr.succeed("-n", ns, "images", "check", "--snapshotter", DEDUP);
            assertTrue(check.lines().anyMatch(l -> l.startsWith(IMAGE) && l.contains("complete (") && l.trim().endsWith("true")),
                    check);
        }
        List<String> layers = snapshotKeys(ctr, "dedup-images");
        assertEquals(1, layers.size(), "one layer, one committed snapshot in dedup: " + layers);

        // each namespace has a snapshot of its own; busybox is stored once for both
        Path busybox = poolFileOfSize(pluginRoot(berthd.dir().resolve("root")).resolve("pool"), Files.size(OciArchive.BUSYBOX));
        assertEquals(3, links(busybox), "the pool file and the layer's snapshot in each namespace");

        // the unpacked layer, mounted read-only through ctr from the dedup snapshotter; not with
        // ctr images mount, which in ctr 1.6 reads --snapshotter as a global flag that ctr does not
        // have and so always mounts from overlayfs
        SnapshotCtr snapshots = new SnapshotCtr(ctr, "dedup-images");
        snapshots.succeed("view", "rootfs", layers.getFirst());
        snapshots.succeed("label", "rootfs", ROOT);
        withMounted(snapshots, work.resolve("rootfs"), "rootfs", root -> {
            assertTrue(Files.isRegularFile(root.resolve("bin/busybox")), "busybox is in the unpacked image");
            assertEquals(Files.size(OciArchive.BUSYBOX), Files.size(root.resolve("bin/busybox")));
            assertEquals(Path.of("busybox"), Files.readSymbolicLink(root.resolve("bin/sh")));
        });
        snapshots.succeed("rm", "rootfs");

        for (String ns : List.of("dedup-images", "dedup-images-again")) {
            ctr.succeed("-n", ns, "images", "rm", "--sync", IMAGE);
            assertEquals(List.of(), snapshotKeys(ctr, ns), "the collector removed the unpacked layer");
        }
        assertFalse(Files.exists(busybox, LinkOption.NOFOLLOW_LINKS), "the pool dropped busybox with the last layer");
    }

    @Test
    @Order(4)
    void poolIsReportedAgainAfterARestart() throws Exception {
        SnapshotCtr ctr = new SnapshotCtr(berthd.ctr(), "dedup-restart");
        Path work = Files.createDirectories(berthd.dir().resolve("restart-work"));
        ctr.succeed("prepare", "one-active");
        withMounted(ctr, work.resolve("one"), "one-active", root -> Files.write(root.resolve("payload"), payload()));
        ctr.succeed("commit", "one", "one-active");
        ctr.succeed("label", "one", ROOT);
        ctr.succeed("prepare", "two-active", "one");
        ctr.succeed("commit", "two", "two-active");
        ctr.succeed("label", "two", ROOT);
        // the jar's own gRPC service, on the daemon's socket: the pool as it is now, where the
        // exports still tell of the empty pool the daemon started with
        StatsResponse live = poolStats(berthd);
        assertEquals(1, live.getFiles(), live::toString);
        assertEquals(PAYLOAD, live.getBytes(), live::toString);
        assertEquals(PAYLOAD, live.getSavedBytes(), "two snapshots hold the payload, stored once");
        assertEquals("0", detail(berthd).exports().get("pool-files"));
        assertEquals(0, berthd.stop(), berthd::logs);

        try (Berthd again = new Berthd()) {
            again.install(sampleJar());
            again.writeConfig(again.baseConfig() + Berthd.GC_ON_REQUEST)
                    .start("--root", berthd.dir().resolve("root").toString());
            Ctr.Detail detail = detail(again);
            assertEquals("1", detail.exports().get("pool-files"), detail::toString);
            assertEquals(Integer.toString(PAYLOAD), detail.exports().get("pool-bytes"), detail::toString);
            assertEquals(Integer.toString(PAYLOAD), detail.exports().get("pool-saved-bytes"),
                    "two snapshots hold the payload, stored once");
            SnapshotCtr restarted = new SnapshotCtr(again.ctr(), "dedup-restart");
            String list = restarted.succeed("ls");
            assertTrue(list.lines().anyMatch(l -> l.matches("two\\s+one\\s+Committed\\s*")), list);
            restarted.succeed("rm", "two");
            restarted.succeed("rm", "one");
            collect(restarted);
            assertEquals(1, restarted.succeed("ls").lines().count(), "only the header is left");
        }
    }

    /** Calls {@code berth.samples.dedup.v1.Pool/Stats} with the stubs generated from the jar's own proto. */
    private static StatsResponse poolStats(Berthd daemon) {
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(daemon.socket().toString()))
                .eventLoopGroup(loop)
                .channelType(EpollDomainSocketChannel.class)
                .usePlaintext()
                .build();
        try {
            return PoolGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .stats(StatsRequest.getDefaultInstance());
        } finally {
            channel.shutdownNow();
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Runs a garbage collection now, by removing a lease synchronously. */
    private static void collect(SnapshotCtr ctr) {
        ctr.ctr().succeed("-n", ctr.namespace(), "leases", "create", "--id", "collect");
        ctr.ctr().succeed("-n", ctr.namespace(), "leases", "rm", "--sync", "collect");
    }

    private static Path sampleJar() {
        Path jar = Path.of(Berthd.property("berth.sample.dedup-snapshotter"));
        assertTrue(Files.isRegularFile(jar), () -> "sample jar " + jar + " is missing");
        return jar;
    }

    private static Path pluginRoot(Path daemonRoot) {
        return daemonRoot.resolve(TYPE + "." + DEDUP);
    }

    private static Ctr.Detail detail(Berthd daemon) {
        return daemon.ctr().pluginDetails("id==" + DEDUP).stream().filter(d -> d.type().equals(TYPE)).findFirst()
                .orElseThrow(() -> new AssertionError("dedup is not listed\n" + daemon.logs()));
    }

    /** The one pool file of {@code size} bytes. */
    private static Path poolFileOfSize(Path pool, long size) throws IOException {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(pool)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                if (Files.size(file) == size) {
                    found.add(file);
                }
            }
        }
        assertEquals(1, found.size(), () -> "pool files of " + size + " bytes: " + found);
        return found.getFirst();
    }

    private static int links(Path file) throws IOException {
        return (Integer) Files.getAttribute(file, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
    }

    private static byte[] payload() {
        byte[] bytes = new byte[PAYLOAD];
        new java.util.Random(PAYLOAD).nextBytes(bytes);
        return bytes;
    }

    private static void assertThrows(Path readOnly) {
        try {
            Files.writeString(readOnly, "x");
        } catch (IOException expected) {
            return;
        }
        fail("wrote " + readOnly + " through a read-only mount");
    }

    private static List<String> snapshotKeys(Ctr ctr, String ns) {
        List<String> keys = new ArrayList<>();
        for (String line : ctr.succeed("-n", ns, "snapshots", "--snapshotter", DEDUP, "ls").lines().skip(1).toList()) {
            keys.add(line.trim().split("\\s+")[0]);
        }
        return keys;
    }

    /** Mounts snapshot {@code key} on {@code target} with the command {@code ctr snapshots mounts} prints, runs {@code body}, unmounts. */
    private static void withMounted(SnapshotCtr ctr, Path target, String key, Body body) throws Exception {
        Files.createDirectories(target);
        String commands = ctr.succeed("mounts", target.toString(), key);
        List<String> lines = commands.lines().filter(line -> !line.isBlank()).toList();
        assertEquals(1, lines.size(), commands);
        Exec.Result mount = Exec.run(List.of("sh", "-c", lines.getFirst()), Map.of(), Duration.ofSeconds(30));
        assertEquals(0, mount.exitCode(), mount::toString);
        try {
            body.run(target);
        } finally {
            Exec.Result umount = Exec.run(List.of("umount", target.toString()), Map.of(), Duration.ofSeconds(30));
            assertEquals(0, umount.exitCode(), umount::toString);
        }
    }

    private static void requireInstalled(Path binary, String debianPackage) {
        if (Files.isExecutable(binary)) {
            return;
        }
        String message = binary + " is missing (Debian package " + debianPackage + ")";
        if (System.getenv("CI") != null) {
            fail(message);
        }
        Assumptions.abort(message);
    }

    private interface Body {
        void run(Path root) throws IOException;
    }

    /** {@code ctr -n <namespace> snapshots --snapshotter dedup ...}. */
    private record SnapshotCtr(Ctr ctr, String namespace) {
        String succeed(String... args) {
            return ctr.succeed(command(args));
        }

        Exec.Result run(String... args) {
            return ctr.run(command(args));
        }

        private String[] command(String... args) {
            List<String> command = new ArrayList<>(List.of("-n", namespace, "snapshots", "--snapshotter", DEDUP));
            command.addAll(List.of(args));
            return command.toArray(String[]::new);
        }
    }
}
