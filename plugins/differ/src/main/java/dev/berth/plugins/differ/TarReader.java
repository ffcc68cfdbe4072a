package dev.berth.plugins.differ;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.InvalidArgumentException;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Reads the tar dialects layers are written in: POSIX ustar with PAX extended headers (what
 * containerd, BuildKit and Go's archive/tar write), and GNU's long name and long link entries
 * (what GNU tar writes). Sparse files, multi-volume archives and other exotic entries are refused:
 * no layer tool writes them.
 *
 * <p>Not thread-safe. The reader never reads past the end-of-archive marker, so the caller can
 * drain and digest whatever trails it.
 */
final class TarReader {

    static final int BLOCK = 512;

    private final InputStream in;
    private final byte[] header = new byte[BLOCK];
    private long remaining;
    private long padding;
    private boolean finished;

    TarReader(InputStream in) {
        this.in = in;
    }

    /** The next entry, or empty at the end of the archive. Skips the unread content of the previous one. */
    Optional<TarEntry> next() throws IOException {
        skipRest();
        if (finished) {
            return Optional.empty();
        }
        Map<String, byte[]> pax = new HashMap<>();
        String longName = null;
        String longLink = null;
        while (true) {
            if (!readHeader()) {
                finished = true;
                return Optional.empty();
            }
            char flag = (char) header[156];
            long size = number(124, 12, "size");
            if (size < 0) {
                throw invalid(rawName(), "negative size");
            }
            switch (flag) {
                case 'x' -> parsePax(readBody(size), pax);
                case 'g' -> readBody(size); // global PAX headers carry nothing a layer needs, as in containerd
                case 'L' -> longName = cString(readBody(size));
                case 'K' -> longLink = cString(readBody(size));
                default -> {
                    return Optional.of(entry(flag, size, pax, longName, longLink));
                }
            }
        }
    }

    /** The content of the current entry; reading stops at its end. */
    InputStream content() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (remaining == 0) {
                    return -1;
                }
                int n = in.read(b, off, (int) Math.min(len, remaining));
                if (n < 0) {
                    throw new EOFException("tar archive ends inside an entry");
                }
                remaining -= n;
                return n;
            }
        };
    }

    private TarEntry entry(char flag, long size, Map<String, byte[]> pax, String longName, String longLink) throws IOException {
        String name = longName != null ? longName : ustarName();
        String link = longLink != null ? longLink : field(157, 100);
        TarEntry.Type type = switch (flag) {
            case '0', '\0', '7' -> TarEntry.Type.REGULAR;
            case '1' -> TarEntry.Type.HARD_LINK;
            case '2' -> TarEntry.Type.SYMLINK;
            case '3' -> TarEntry.Type.CHAR_DEVICE;
            case '4' -> TarEntry.Type.BLOCK_DEVICE;
            case '5' -> TarEntry.Type.DIRECTORY;
            case '6' -> TarEntry.Type.FIFO;
            default -> throw invalid(name, "unsupported tar entry type '" + flag + "'");
        };
        if (flag == '5' && name.isEmpty()) {
            name = ".";
        }
        long uid = number(108, 8, "uid");
        long gid = number(116, 8, "gid");
        Instant mtime = Instant.ofEpochSecond(number(136, 12, "mtime"));
        Optional<Instant> atime = Optional.empty();
        if (isGnu() && header[345] != 0) {
            atime = Optional.of(Instant.ofEpochSecond(number(345, 12, "atime")));
        }
        Map<String, byte[]> xattrs = new HashMap<>();
        for (Map.Entry<String, byte[]> record : pax.entrySet()) {
            String key = record.getKey();
            String value = new String(record.getValue(), StandardCharsets.UTF_8);
            switch (key) {
                case "path" -> name = value;
                case "linkpath" -> link = value;
                case "size" -> size = paxLong(name, key, value);
                case "uid" -> uid = paxLong(name, key, value);
                case "gid" -> gid = paxLong(name, key, value);
                case "mtime" -> mtime = paxTime(name, value);
                case "atime" -> atime = Optional.of(paxTime(name, value));
                default -> {
                    if (key.startsWith("SCHILY.xattr.")) {
                        xattrs.put(key.substring("SCHILY.xattr.".length()), record.getValue());
                    } else if (key.startsWith("GNU.sparse.")) {
                        throw invalid(name, "sparse files are not supported");
                    }
                }
            }
        }
        // as in Go's reader, only regular files have data blocks; other types' size fields are ignored
        if (type != TarEntry.Type.REGULAR) {
            size = 0;
        }
        remaining = size;
        padding = (BLOCK - size % BLOCK) % BLOCK;
        int mode = (int) (number(100, 8, "mode") & 07777);
        int major = (int) number(329, 8, "devmajor");
        int minor = (int) number(337, 8, "devminor");
        return new TarEntry(name, type, mode, uid, gid, size, mtime, atime, link, major, minor, xattrs);
    }

    private boolean readHeader() throws IOException {
        if (!readFully(header, true)) {
            return false;
        }
        if (isZero(header)) {
            // the end marker is two zero blocks; tolerate archives cut after the first, as GNU tar does
            byte[] second = new byte[BLOCK];
            if (readFully(second, true) && !isZero(second)) {
                throw invalid("(after a zero block)", "data after the end-of-archive marker");
            }
            return false;
        }
        long expected = number(148, 8, "checksum");
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            byte b = i >= 148 && i < 156 ? (byte) ' ' : header[i];
            unsigned += b & 0xff;
            signed += b;
        }
        if (expected != unsigned && expected != signed) {
            throw invalid(rawName(), "tar header checksum mismatch (not a tar archive, or a corrupt one)");
        }
        return true;
    }

    private byte[] readBody(long size) throws IOException {
        if (size > 1 << 20) {
            throw invalid(rawName(), "extended header of " + size + " bytes is too large");
        }
        byte[] body = new byte[(int) size];
        if (!readFully(body, false)) {
            throw new EOFException("tar archive ends inside an extended header");
        }
        skip((BLOCK - size % BLOCK) % BLOCK);
        return body;
    }

    private void skipRest() throws IOException {
        skip(remaining + padding);
        remaining = 0;
        padding = 0;
    }

    private void skip(long count) throws IOException {
        byte[] scratch = new byte[8192];
        while (count > 0) {
            int n = in.read(scratch, 0, (int) Math.min(scratch.length, count));
            if (n < 0) {
                throw new EOFException("tar archive ends inside an entry");
            }
            count -= n;
        }
    }

    /** Fills {@code buffer}; at a clean end of stream before any byte returns false when allowed. */
    private boolean readFully(byte[] buffer, boolean endAllowed) throws IOException {
        int off = 0;
        while (off < buffer.length) {
            int n = in.read(buffer, off, buffer.length - off);
            if (n < 0) {
                if (off == 0 && endAllowed) {
                    return false;
                }
                throw new EOFException("tar archive is truncated");
            }
            off += n;
        }
        return true;
    }

    private static void parsePax(byte[] body, Map<String, byte[]> into) {
        int pos = 0;
        while (pos < body.length) {
            int space = indexOf(body, (byte) ' ', pos);
            if (space < 0) {
                throw invalid("(PAX header)", "malformed record");
            }
            int length;
            try {
                length = Integer.parseInt(new String(body, pos, space - pos, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw invalid("(PAX header)", "malformed record length");
            }
            int end = pos + length;
            if (length <= 0 || end > body.length || body[end - 1] != '\n') {
                throw invalid("(PAX header)", "malformed record");
            }
            int equals = indexOf(body, (byte) '=', space + 1);
            if (equals < 0 || equals >= end) {
                throw invalid("(PAX header)", "record without '='");
            }
            String key = new String(body, space + 1, equals - space - 1, StandardCharsets.UTF_8);
            into.put(key, Arrays.copyOfRange(body, equals + 1, end - 1));
            pos = end;
        }
    }

    private static int indexOf(byte[] body, byte b, int from) {
        for (int i = from; i < body.length; i++) {
            if (body[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private boolean isGnu() {
        return header[257] == 'u' && header[262] == ' ';
    }

    private String ustarName() {
        String name = field(0, 100);
        // POSIX ustar splits long names into prefix and name; GNU uses those bytes for times
        if (!isGnu() && header[257] == 'u' && header[345] != 0) {
            name = field(345, 155) + "/" + name;
        }
        return name;
    }

    private String rawName() {
        return field(0, 100);
    }

    private String field(int offset, int length) {
        int end = offset;
        while (end < offset + length && header[end] != 0) {
            end++;
        }
        return new String(header, offset, end - offset, StandardCharsets.UTF_8);
    }

    /** An octal field, or GNU's base-256 form when the high bit of its first byte is set. */
    private long number(int offset, int length, String what) {
        if ((header[offset] & 0x80) != 0) {
            long value = header[offset] & 0x3f;
            if ((header[offset] & 0x40) != 0) {
                throw invalid(rawName(), "negative " + what);
            }
            for (int i = offset + 1; i < offset + length; i++) {
                if (value >>> 55 != 0) {
                    throw invalid(rawName(), what + " out of range");
                }
                value = value << 8 | (header[i] & 0xff);
            }
            return value;
        }
        long value = 0;
        int i = offset;
        int end = offset + length;
        while (i < end && (header[i] == ' ' || header[i] == 0)) {
            i++;
        }
        for (; i < end && header[i] != ' ' && header[i] != 0; i++) {
            int digit = header[i] - '0';
            if (digit < 0 || digit > 7) {
                throw invalid(rawName(), "malformed " + what + " field");
            }
            value = value << 3 | digit;
        }
        return value;
    }

    private static long paxLong(String name, String key, String value) {
        try {
            long parsed = Long.parseLong(value);
            if (parsed < 0) {
                throw invalid(name, "negative PAX " + key);
            }
            return parsed;
        } catch (NumberFormatException e) {
            throw invalid(name, "malformed PAX " + key + " '" + value + "'");
        }
    }

    private static Instant paxTime(String name, String value) {
        try {
            BigDecimal seconds = new BigDecimal(value);
            long whole = seconds.setScale(0, java.math.RoundingMode.FLOOR).longValueExact();
            long nanos = seconds.subtract(BigDecimal.valueOf(whole)).movePointRight(9).longValue();
            return Instant.ofEpochSecond(whole, nanos);
        } catch (NumberFormatException | ArithmeticException | java.time.DateTimeException e) {
            throw invalid(name, "malformed PAX time '" + value + "'");
        }
    }

    private static String cString(byte[] body) {
        int end = 0;
        while (end < body.length && body[end] != 0) {
            end++;
        }
        return new String(body, 0, end, StandardCharsets.UTF_8);
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    static InvalidArgumentException invalid(String entry, String problem) {
        return (InvalidArgumentException) BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                "layer entry \"" + entry + "\": " + problem);
    }
}
