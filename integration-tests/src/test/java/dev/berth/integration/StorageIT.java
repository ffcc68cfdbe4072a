package dev.berth.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.berth.api.services.content.v1.ContentGrpc;
import dev.berth.api.services.content.v1.StatusRequest;
import dev.berth.api.services.content.v1.WriteAction;
import dev.berth.api.services.content.v1.WriteContentRequest;
import dev.berth.api.services.content.v1.WriteContentResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Namespaces, content, leases and garbage collection driven by the real {@code ctr} (and, for
 * what ctr has no command for, by the daemon's own gRPC API over its socket), and a daemon killed
 * with SIGKILL in the middle of many ingests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StorageIT {
    /** The acceptance size: 1 GiB spans about a thousand write and read messages. */
    private static final int LARGE = 1 << 30;
    private static final Duration LONG = Duration.ofMinutes(3);
    private static final Metadata.Key<String> NAMESPACE = Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> LEASE = Metadata.Key.of("containerd-lease", Metadata.ASCII_STRING_MARSHALLER);

    private Berthd berthd;
    private Path work;

    @BeforeAll
    void start() throws IOException {
        Ctr.requireInstalled();
        berthd = collectOnlyOnRequest(new Berthd()).start();
        work = Files.createDirectories(berthd.dir().resolve("work"));
    }

    /**
     * Content that ctr ingests is held by nothing, so a collection triggered by the daemon's own
     * thresholds could take it at any moment; with this config collections run when a test asks.
     */
    private static Berthd collectOnlyOnRequest(Berthd berthd) {
        return berthd.writeConfig(berthd.baseConfig() + Berthd.GC_ON_REQUEST);
    }

    @AfterAll
    void stop() {
        if (berthd != null) {
            berthd.close();
        }
    }

    // ---------------------------------------------------------------- namespaces

    @Test
    void namespacesCreateListLabelRemove() {
        Ctr ctr = berthd.ctr();
        ctr.succeed("namespaces", "create", "ns-crud", "team=storage");
        assertEquals(Map.of("ns-crud", "team=storage"), namespaces(ctr, "ns-crud"));
        ctr.succeed("namespaces", "label", "ns-crud", "tier=gold");
        assertEquals(Map.of("ns-crud", "team=storage,tier=gold"), namespaces(ctr, "ns-crud"));
        ctr.succeed("namespaces", "label", "ns-crud", "team=");
        assertEquals(Map.of("ns-crud", "tier=gold"), namespaces(ctr, "ns-crud"));

        Exec.Result duplicate = ctr.run("namespaces", "create", "ns-crud");
        assertNotEquals(0, duplicate.exitCode());
        assertTrue(duplicate.stderr().contains("already exists"), duplicate::toString);

        ctr.succeed("namespaces", "rm", "ns-crud");
        assertEquals(Map.of(), namespaces(ctr, "ns-crud"));
    }

    @Test
    void removingANamespaceThatHoldsContentFails() throws IOException {
        Ctr ctr = berthd.ctr();
        ctr.succeed("namespaces", "create", "ns-busy");
        Path file = randomFile("busy", 1000, 7);
        ingest(berthd.socket(), "ns-busy", "busy", file);

        Exec.Result refused = ctr.run("namespaces", "rm", "ns-busy");
        assertNotEquals(0, refused.exitCode(), refused::toString);
        assertTrue(refused.stderr().contains("must be empty"), refused::toString);
        assertEquals(Set.of("ns-busy"), namespaces(ctr, "ns-busy").keySet());

        ctr.succeed("-n", "ns-busy", "content", "rm", sha256(file));
        ctr.succeed("namespaces", "rm", "ns-busy");
        assertEquals(Map.of(), namespaces(ctr, "ns-busy"));
    }

    @Test
    void invalidNamespaceNamesAreRefused() {
        for (String invalid : List.of("bad name", "_leading", "trailing-", "a..b", "x".repeat(77))) {
            Exec.Result result = berthd.ctr().run("namespaces", "create", invalid);
            assertNotEquals(0, result.exitCode(), result::toString);
            assertTrue(result.stderr().contains("invalid argument"), result::toString);
        }
        Exec.Result result = berthd.ctr().run("-n", "bad name", "content", "ls");
        assertNotEquals(0, result.exitCode(), result::toString);
    }

    /** {@code ctr namespaces ls}: name to labels column, for the names given. */
    private static Map<String, String> namespaces(Ctr ctr, String... names) {
        Map<String, String> found = new TreeMap<>();
        for (String line : ctr.succeed("namespaces", "ls").lines().skip(1).toList()) {
            String[] cells = line.trim().split("\\s+");
            if (List.of(names).contains(cells[0])) {
                found.put(cells[0], cells.length > 1 ? cells[1] : "");
            }
        }
        return found;
    }

    // ---------------------------------------------------------------- content

    @Test
    void largeIngestListGetLabelRemove() throws IOException {
        NsCtr ctr = new NsCtr(berthd.ctr(), "large");
        Path file = randomFile("large", LARGE, 1);
        String digest = sha256sum(file);

        long start = System.nanoTime();
        ingest(berthd.socket(), "large", "large-1", file);
        double ingestSeconds = (System.nanoTime() - start) / 1e9;

        assertEquals(List.of(digest), contentDigests(ctr));
        Path copy = work.resolve("large.out");
        start = System.nanoTime();
        Exec.Result get = run(berthd.socket(), ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()), copy, LONG,
                "-n", "large", "content", "get", digest);
        assertEquals(0, get.exitCode(), get::toString);
        double getSeconds = (System.nanoTime() - start) / 1e9;
        assertEquals(Files.size(file), Files.size(copy));
        assertEquals(-1L, Files.mismatch(file, copy), "ctr content get returned other bytes");
        System.out.printf("ctr content ingest of %d MiB: %.2f s (%.0f MiB/s); ctr content get: %.2f s (%.0f MiB/s)%n",
                LARGE >> 20, ingestSeconds, (LARGE >> 20) / ingestSeconds, getSeconds, (LARGE >> 20) / getSeconds);
        Files.delete(copy);

        ctr.succeed("content", "label", digest, "origin=it", "stage=1");
        String listed = ctr.succeed("content", "ls");
        assertTrue(listed.contains("origin=it") && listed.contains("stage=1"), listed);
        assertEquals(List.of(digest), contentDigests(ctr, "labels.origin==it"));
        assertEquals(List.of(), contentDigests(ctr, "labels.origin==other"));

        ctr.succeed("content", "rm", digest);
        assertEquals(List.of(), contentDigests(ctr));
        Exec.Result missing = ctr.run("content", "get", digest);
        assertNotEquals(0, missing.exitCode(), missing::toString);
        assertTrue(missing.stderr().contains("not found"), missing::toString);
        Files.delete(file);
    }

    @Test
    void anInterruptedIngestIsActiveAndCompletesFromItsOffset() throws Exception {
        NsCtr ctr = new NsCtr(berthd.ctr(), "resume");
        Path file = randomFile("resume", 160 << 20, 2);
        String digest = sha256sum(file);
        long sent = 100L << 20;

        // the first ctr reads a pipe, gets 100 MiB, and is killed while waiting for the rest
        Process first = new ProcessBuilder(Ctr.BINARY.toString(), "--address", berthd.socket().toString(),
                "-n", "resume", "content", "ingest", "interrupted")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (InputStream in = Files.newInputStream(file); OutputStream pipe = first.getOutputStream()) {
            pipe.write(in.readNBytes((int) sent));
            pipe.flush();
            try (Client client = new Client(berthd.socket())) {
                Poll.until(Duration.ofSeconds(60), () -> offset(client, "resume", "interrupted") == sent,
                        () -> "ingest stands at " + offset(client, "resume", "interrupted"));
            }
            first.destroyForcibly().waitFor();
        }
        String active = ctr.succeed("content", "active");
        assertTrue(active.lines().anyMatch(line -> line.startsWith("interrupted")), active);

        // bytes below the offset are zeros in the second input: only a resume at the offset gives the digest
        Path resumed = work.resolve("resume.second");
        Files.copy(file, resumed);
        try (RandomAccessFile raf = new RandomAccessFile(resumed.toFile(), "rw")) {
            raf.write(new byte[(int) sent]);
        }
        Exec.Result second = run(berthd.socket(), ProcessBuilder.Redirect.from(resumed.toFile()), null, LONG,
                "-n", "resume", "content", "ingest", "--expected-digest", digest, "--expected-size",
                String.valueOf(Files.size(file)), "interrupted");
        assertEquals(0, second.exitCode(), second::toString);
        assertEquals(List.of(digest), contentDigests(ctr));
        assertFalse(ctr.succeed("content", "active").contains("interrupted"));
        Files.delete(file);
        Files.delete(resumed);
    }

    private static long offset(Client client, String namespace, String ref) {
        try {
            return client.content(namespace).status(StatusRequest.newBuilder().setRef(ref).build()).getStatus().getOffset();
        } catch (StatusRuntimeException e) {
            return -1;
        }
    }

    // ---------------------------------------------------------------- leases and garbage collection

    @Test
    void leasesCreateListRemove() {
        NsCtr ctr = new NsCtr(berthd.ctr(), "leases");
        assertEquals("l-one", ctr.succeed("leases", "create", "--id", "l-one", "purpose=it").strip());
        String generated = ctr.succeed("leases", "create").strip();
        assertFalse(generated.isEmpty());
        String listed = ctr.succeed("leases", "ls");
        assertTrue(listed.lines().anyMatch(line -> line.startsWith("l-one") && line.contains("purpose=it")), listed);
        assertTrue(listed.lines().anyMatch(line -> line.startsWith(generated)), listed);

        ctr.succeed("leases", "rm", "l-one", generated);
        assertEquals(1, ctr.succeed("leases", "ls").lines().filter(line -> !line.isBlank()).count(), "only the header remains");
        assertNotEquals(0, ctr.run("leases", "rm", "l-one").exitCode());
    }

    @Test
    void contentUnderALeaseSurvivesCollectionUntilTheLeaseIsRemoved() throws Exception {
        NsCtr ctr = new NsCtr(berthd.ctr(), "gc");
        ctr.succeed("leases", "create", "--id", "hold");
        byte[] held = new byte[300_000];
        new Random(3).nextBytes(held);
        String heldDigest;
        try (Client client = new Client(berthd.socket())) {
            heldDigest = client.write("gc", "hold", "held", held);
        }
        // content nothing holds: the collection must take it, which proves one ran
        Path loose = randomFile("loose", 1000, 4);
        ingest(berthd.socket(), "gc", "loose", loose);
        assertEquals(new TreeSet<>(List.of(heldDigest, sha256(loose))), new TreeSet<>(contentDigests(ctr)));

        collect(ctr);
        assertEquals(List.of(heldDigest), contentDigests(ctr));
        assertTrue(Files.exists(blob(berthd.dir(), heldDigest)));
        assertFalse(Files.exists(blob(berthd.dir(), sha256(loose))));

        ctr.succeed("leases", "rm", "--sync", "hold");
        assertEquals(List.of(), contentDigests(ctr));
        assertFalse(Files.exists(blob(berthd.dir(), heldDigest)), "the blob file outlived its last reference");
    }

    /** A synchronous collection, as ctr can ask for one: removing a lease with {@code --sync}. */
    private static void collect(NsCtr ctr) {
        ctr.succeed("leases", "create", "--id", "collect-now");
        ctr.succeed("leases", "rm", "--sync", "collect-now");
    }

    // ---------------------------------------------------------------- crash safety

    @Test
    void killedDuringConcurrentIngestsItRestartsWithOnlyWholeBlobs() throws Exception {
        try (Berthd first = collectOnlyOnRequest(new Berthd()).start()) {
            NsCtr ctr = new NsCtr(first.ctr(), "crash");
            Path files = Files.createDirectories(first.dir().resolve("files"));
            // blobs committed before the crash, made roots so that no collection may take them
            List<String> committed = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Path file = randomFile(files, "committed-" + i, 3_000_000 + i, 100 + i);
                ingest(first.socket(), "crash", "committed-" + i, file);
                committed.add(sha256(file));
                ctr.succeed("content", "label", committed.getLast(), "containerd.io/gc.root=it");
            }
            // many ingests in flight, each fed through a pipe that never ends, when the daemon dies
            List<Process> clients = new ArrayList<>();
            List<CompletableFuture<Void>> feeders = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Process client = new ProcessBuilder(Ctr.BINARY.toString(), "--address", first.socket().toString(),
                        "-n", "crash", "content", "ingest", "inflight-" + i)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
                clients.add(client);
                int seed = 200 + i;
                feeders.add(CompletableFuture.runAsync(() -> feed(client, seed), Thread::startVirtualThread));
            }
            try (Client client = new Client(first.socket())) {
                Poll.until(Duration.ofSeconds(60), () -> {
                    for (int i = 0; i < 8; i++) {
                        if (offset(client, "crash", "inflight-" + i) < (8 << 20)) {
                            return false;
                        }
                    }
                    return true;
                }, () -> "the ingests did not all get going\n" + first.logs());
            }
            ProcessHandle daemon = ProcessHandle.current().children()
                    .filter(child -> child.info().commandLine().orElse("").contains(first.dir().toString()))
                    .findFirst().orElseThrow(() -> new AssertionError("no berthd process under " + first.dir()));
            daemon.destroyForcibly(); // SIGKILL
            daemon.onExit().get(30, TimeUnit.SECONDS);
            for (Process client : clients) {
                client.destroyForcibly().waitFor();
            }
            CompletableFuture.allOf(feeders.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();

            try (Berthd second = Berthd.onSocket(first.socket())) {
                second.start("--root", first.dir().resolve("root").toString(), "--state", first.dir().resolve("state").toString());
                NsCtr after = new NsCtr(second.ctr(), "crash");
                assertEquals(new TreeSet<>(committed), new TreeSet<>(contentDigests(after)), second::logs);
                for (String digest : committed) {
                    Path copy = files.resolve("copy");
                    Exec.Result get = run(second.socket(), ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()), copy,
                            LONG, "-n", "crash", "content", "get", digest);
                    assertEquals(0, get.exitCode(), get::toString);
                    assertEquals(digest, sha256(copy), "committed blob damaged by the crash");
                }
                assertEquals(new TreeSet<>(committed), blobFiles(first.dir()), "a blob file the metadata does not list");
                // the interrupted ingests are still there to resume, not blobs
                String active = after.succeed("content", "active");
                assertEquals(8, active.lines().filter(line -> line.startsWith("inflight-")).count(), active);

                // after a collection, the blob directory holds exactly the listed blobs, each whole
                collect(after);
                assertEquals(new TreeSet<>(committed), new TreeSet<>(contentDigests(after)), second::logs);
                assertEquals(new TreeSet<>(committed), blobFiles(first.dir()));
                for (String digest : committed) {
                    assertEquals(digest, sha256(blob(first.dir(), digest)));
                }
            }
        }
    }

    /** Writes random bytes into the client's stdin until the client dies. */
    private static void feed(Process client, long seed) {
        byte[] chunk = new byte[1 << 20];
        Random random = new Random(seed);
        try (OutputStream in = client.getOutputStream()) {
            while (client.isAlive()) {
                random.nextBytes(chunk);
                in.write(chunk);
            }
        } catch (IOException e) {
            // the pipe broke when the client was killed
        }
    }

    // ---------------------------------------------------------------- helpers

    /** {@code ctr content ingest ref < file}, in a namespace; fails unless it succeeds. */
    private static void ingest(Path socket, String namespace, String ref, Path file) {
        Exec.Result result = run(socket, ProcessBuilder.Redirect.from(file.toFile()), null, LONG,
                "-n", namespace, "content", "ingest", ref);
        assertEquals(0, result.exitCode(), result::toString);
    }

    /** Runs ctr with stdin from {@code input} and stdout into {@code output} (or captured when null). */
    private static Exec.Result run(Path socket, ProcessBuilder.Redirect input, Path output, Duration timeout, String... args) {
        List<String> command = new ArrayList<>(List.of(Ctr.BINARY.toString(), "--address", socket.toString()));
        command.addAll(List.of(args));
        try {
            Path stdout = output != null ? output : Files.createTempFile("ctr", ".out");
            Path stderr = Files.createTempFile("ctr", ".err");
            try {
                Process process = new ProcessBuilder(command).redirectInput(input)
                        .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly().waitFor();
                    throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout);
                }
                return new Exec.Result(command, process.exitValue(),
                        output != null ? "" : Files.readString(stdout), Files.readString(stderr));
            } finally {
                if (output == null) {
                    Files.deleteIfExists(stdout);
                }
                Files.deleteIfExists(stderr);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** The digests {@code ctr content ls [filters]} prints, sorted. */
    private static List<String> contentDigests(NsCtr ctr, String... filters) {
        String[] args = Stream.concat(Stream.of("content", "ls", "-q"), Stream.of(filters)).toArray(String[]::new);
        return ctr.succeed(args).lines().filter(line -> !line.isBlank()).map(String::strip).sorted().toList();
    }

    private Path randomFile(String name, int size, long seed) throws IOException {
        return randomFile(work, name, size, seed);
    }

    private static Path randomFile(Path dir, String name, int size, long seed) throws IOException {
        Path file = dir.resolve(name);
        Random random = new Random(seed);
        byte[] chunk = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int left = size; left > 0; left -= chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk, 0, Math.min(left, chunk.length));
            }
        }
        return file;
    }

    /** The digest by the system's own {@code sha256sum}, so that the daemon's hashing is not checked against itself. */
    private static String sha256sum(Path file) {
        Exec.Result result = Exec.run(List.of("sha256sum", file.toString()), Map.of(), LONG);
        assertEquals(0, result.exitCode(), result::toString);
        return "sha256:" + result.stdout().split("\\s+")[0];
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
            }
            return "sha256:" + HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Where the built-in content store keeps a blob, as containerd lays it out. */
    private static Path blob(Path daemonDir, String digest) {
        return blobDir(daemonDir).resolve(digest.substring("sha256:".length()));
    }

    private static Path blobDir(Path daemonDir) {
        return daemonDir.resolve("root/io.containerd.content.v1.content/blobs/sha256");
    }

    private static Set<String> blobFiles(Path daemonDir) throws IOException {
        try (Stream<Path> files = Files.list(blobDir(daemonDir))) {
            return files.map(file -> "sha256:" + file.getFileName()).collect(java.util.stream.Collectors.toCollection(TreeSet::new));
        }
    }

    /** ctr in one namespace. */
    private record NsCtr(Ctr ctr, String namespace) {
        String succeed(String... args) {
            return ctr.succeed(withNamespace(args));
        }

        Exec.Result run(String... args) {
            return ctr.run(withNamespace(args));
        }

        private String[] withNamespace(String... args) {
            return Stream.concat(Stream.of("-n", namespace), Stream.of(args)).toArray(String[]::new);
        }
    }

    /** The daemon's gRPC API on its unix socket, with containerd's headers. */
    private static final class Client implements AutoCloseable {
        private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        private final ManagedChannel channel;

        Client(Path socket) {
            channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                    .eventLoopGroup(loop)
                    .channelType(EpollDomainSocketChannel.class)
                    .usePlaintext()
                    .build();
        }

        ContentGrpc.ContentBlockingStub content(String namespace) {
            return ContentGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers(namespace, null)));
        }

        /** Writes and commits {@code bytes} under {@code lease}, as a client pulling an image does; returns the digest. */
        String write(String namespace, String lease, String ref, byte[] bytes) throws Exception {
            String digest;
            try {
                digest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            CompletableFuture<WriteContentResponse> last = new CompletableFuture<>();
            StreamObserver<WriteContentRequest> requests = ContentGrpc.newStub(channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers(namespace, lease)))
                    .write(new StreamObserver<>() {
                        private WriteContentResponse response;

                        @Override
                        public void onNext(WriteContentResponse value) {
                            response = value;
                        }

                        @Override
                        public void onError(Throwable error) {
                            last.completeExceptionally(error);
                        }

                        @Override
                        public void onCompleted() {
                            last.complete(response);
                        }
                    });
            requests.onNext(WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef(ref)
                    .setTotal(bytes.length).setExpected(digest).build());
            requests.onNext(WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT).setData(ByteString.copyFrom(bytes))
                    .setTotal(bytes.length).setExpected(digest).build());
            assertEquals(digest, last.get(60, TimeUnit.SECONDS).getDigest());
            requests.onCompleted();
            return digest;
        }

        private static Metadata headers(String namespace, String lease) {
            Metadata headers = new Metadata();
            headers.put(NAMESPACE, namespace);
            if (lease != null) {
                headers.put(LEASE, lease);
            }
            return headers;
        }

        @Override
        public void close() throws InterruptedException {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        }
    }
}
