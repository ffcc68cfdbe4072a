package dev.berth.integration;

import static java.util.Objects.requireNonNull;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

/**
 * OCI image archives as {@code ctr images import} takes them, built offline: busybox with
 * {@code umoci}, and single-layer images written byte by byte, for layers no archiver would make.
 */
final class OciArchive {
    static final Path UMOCI = Path.of("/usr/bin/umoci");
    static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final Duration SLOW = Duration.ofMinutes(2);

    /**
     * An archive and the digest of the one manifest its index names.
     *
     * @param file     the archive
     * @param manifest the manifest's digest, {@code sha256:<hex>}
     */
    record Built(Path file, String manifest) {
        Built {
            requireNonNull(file, "file is null");
            requireNonNull(manifest, "manifest is null");
        }
    }

    /**
     * One member of a layer tar.
     *
     * @param name     the member's name, exactly as the tar header carries it
     * @param type     the ustar type flag: {@code '0'} file, {@code '1'} hard link, {@code '2'} symlink, {@code '5'} directory
     * @param linkName a link's target, empty otherwise
     * @param data     a file's content, empty otherwise
     */
    record Entry(String name, char type, String linkName, byte[] data) {
        Entry {
            requireNonNull(name, "name is null");
            requireNonNull(linkName, "linkName is null");
            data = data.clone();
        }

        static Entry file(String name, String content) {
            return new Entry(name, '0', "", content.getBytes(StandardCharsets.UTF_8));
        }

        static Entry directory(String name) {
            return new Entry(name, '5', "", new byte[0]);
        }

        static Entry symlink(String name, String target) {
            return new Entry(name, '2', target, new byte[0]);
        }

        static Entry hardLink(String name, String target) {
            return new Entry(name, '1', target, new byte[0]);
        }

        @Override
        public byte[] data() {
            return data.clone();
        }
    }

    private OciArchive() {}

    /**
     * An image tagged {@code latest} whose single layer holds busybox and a {@code /bin/sh} link to
     * it, built with umoci under {@code dir}.
     */
    static Built busybox(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path layout = dir.resolve("layout");
        Path bundle = dir.resolve("bundle");
        exec(UMOCI.toString(), "init", "--layout", layout.toString());
        exec(UMOCI.toString(), "new", "--image", layout + ":latest");
        exec(UMOCI.toString(), "unpack", "--image", layout + ":latest", bundle.toString());
        Path bin = Files.createDirectories(bundle.resolve("rootfs/bin"));
        Files.copy(BUSYBOX, bin.resolve("busybox"));
        Files.createSymbolicLink(bin.resolve("sh"), Path.of("busybox"));
        exec(UMOCI.toString(), "repack", "--image", layout + ":latest", bundle.toString());
        exec(UMOCI.toString(), "gc", "--layout", layout.toString());
        Path tar = dir.resolve("busybox.tar");
        exec("tar", "-C", layout.toString(), "-cf", tar.toString(), ".");
        Matcher manifest = Pattern.compile("\"digest\":\"(sha256:[0-9a-f]{64})\"")
                .matcher(Files.readString(layout.resolve("index.json")));
        assertTrue(manifest.find(), "umoci wrote no manifest into " + layout);
        return new Built(tar, manifest.group(1));
    }

    /**
     * An image tagged {@code latest} for linux/amd64 whose single gzip layer holds {@code entries}
     * in that order, with correct digests, sizes and diff id, written to {@code archive}.
     */
    static Built withLayer(Path archive, List<Entry> entries) throws IOException {
        byte[] layer = tar(entries);
        byte[] compressed = gzip(layer);
        byte[] config = """
                {"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["%s"]}}"""
                .formatted(sha256(layer)).getBytes(StandardCharsets.UTF_8);
        byte[] manifest = """
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
                "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},\
                "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%d}]}"""
                .formatted(sha256(config), config.length, sha256(compressed), compressed.length)
                .getBytes(StandardCharsets.UTF_8);
        byte[] index = """
                {"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",\
                "digest":"%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}"""
                .formatted(sha256(manifest), manifest.length).getBytes(StandardCharsets.UTF_8);

        Map<String, byte[]> layout = new LinkedHashMap<>();
        layout.put("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
        layout.put("index.json", index);
        for (byte[] blob : List.of(manifest, config, compressed)) {
            layout.put("blobs/sha256/" + sha256(blob).substring("sha256:".length()), blob);
        }
        Files.write(archive, tar(layout.entrySet().stream()
                .map(member -> new Entry(member.getKey(), '0', "", member.getValue())).toList()));
        return new Built(archive, sha256(manifest));
    }

    static String sha256(byte[] bytes) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A ustar archive of {@code entries}, mode 0644 (0755 for directories), owned by root, mtime 0. */
    private static byte[] tar(List<Entry> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Entry entry : entries) {
            byte[] data = entry.data();
            byte[] header = new byte[512];
            put(header, 0, 100, entry.name());
            put(header, 100, 8, octal(entry.type() == '5' ? 0755 : 0644, 7));
            put(header, 108, 8, octal(0, 7));
            put(header, 116, 8, octal(0, 7));
            put(header, 124, 12, octal(data.length, 11));
            put(header, 136, 12, octal(0, 11));
            header[156] = (byte) entry.type();
            put(header, 157, 100, entry.linkName());
            put(header, 257, 6, "ustar\0");
            put(header, 263, 2, "00");
            // the checksum is computed with its own field read as eight spaces
            put(header, 148, 8, "        ");
            int sum = 0;
            for (byte b : header) {
                sum += b & 0xff;
            }
            put(header, 148, 8, octal(sum, 6) + "\0 ");
            out.writeBytes(header);
            out.writeBytes(data);
            out.writeBytes(new byte[(512 - data.length % 512) % 512]);
        }
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    private static String octal(long value, int digits) {
        String text = Long.toOctalString(value);
        if (text.length() > digits) {
            throw new IllegalArgumentException(value + " does not fit a ustar field of " + digits + " digits");
        }
        return "0".repeat(digits - text.length()) + text;
    }

    private static void put(byte[] header, int offset, int length, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > length) {
            throw new IllegalArgumentException("\"" + value + "\" is longer than its ustar field (" + length + ")");
        }
        System.arraycopy(bytes, 0, header, offset, bytes.length);
    }

    private static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void exec(String... command) {
        Exec.Result result = Exec.run(List.of(command), Map.of(), SLOW);
        assertEquals(0, result.exitCode(), result::toString);
    }
}
