package dev.berth.plugins.differ;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes POSIX ustar entries, with a PAX extended header only where ustar cannot say it (long or
 * non-ASCII names, large ids and sizes, xattrs), as Go's archive/tar does in its PAX format. Times
 * are whole seconds, as containerd writes them, so the same tree always gives the same bytes.
 */
final class TarWriter {

    private static final int BLOCK = TarReader.BLOCK;
    private static final long MAX_OCTAL_7 = 07777777L;
    private static final long MAX_OCTAL_11 = 077777777777L;

    private final OutputStream out;
    private final byte[] copyBuffer = new byte[128 * 1024];

    TarWriter(OutputStream out) {
        this.out = out;
    }

    /**
     * Writes one entry. A regular file's content is copied from {@code content}, which must hold
     * exactly {@code entry.size()} bytes.
     */
    void write(TarEntry entry, InputStream content) throws IOException {
        Map<String, byte[]> pax = new TreeMap<>();
        byte[] name = entry.name().getBytes(StandardCharsets.UTF_8);
        byte[] link = entry.linkName().getBytes(StandardCharsets.UTF_8);
        if (name.length > 100 || !ascii(name)) {
            pax.put("path", name);
        }
        if (link.length > 100 || !ascii(link)) {
            pax.put("linkpath", link);
        }
        if (entry.uid() > MAX_OCTAL_7) {
            pax.put("uid", Long.toString(entry.uid()).getBytes(StandardCharsets.US_ASCII));
        }
        if (entry.gid() > MAX_OCTAL_7) {
            pax.put("gid", Long.toString(entry.gid()).getBytes(StandardCharsets.US_ASCII));
        }
        if (entry.size() > MAX_OCTAL_11) {
            pax.put("size", Long.toString(entry.size()).getBytes(StandardCharsets.US_ASCII));
        }
        long mtime = entry.mtime().getEpochSecond();
        if (mtime < 0 || mtime > MAX_OCTAL_11) {
            pax.put("mtime", Long.toString(mtime).getBytes(StandardCharsets.US_ASCII));
        }
        for (Map.Entry<String, byte[]> xattr : entry.xattrs().entrySet()) {
            pax.put("SCHILY.xattr." + xattr.getKey(), xattr.getValue());
        }
        if (!pax.isEmpty()) {
            byte[] records = paxRecords(pax);
            out.write(header("././@PaxHeader".getBytes(StandardCharsets.US_ASCII), 'x', 0, 0, 0, records.length, 0,
                    new byte[0], 0, 0));
            out.write(records);
            pad(records.length);
        }
        out.write(header(name, entry.type().flag, entry.mode(), entry.uid(), entry.gid(),
                entry.type() == TarEntry.Type.REGULAR ? entry.size() : 0, mtime, link, entry.devMajor(), entry.devMinor()));
        if (entry.type() == TarEntry.Type.REGULAR && entry.size() > 0) {
            long left = entry.size();
            while (left > 0) {
                int n = content.read(copyBuffer, 0, (int) Math.min(copyBuffer.length, left));
                if (n < 0) {
                    throw new IOException(entry.name() + " shrank while it was being archived");
                }
                out.write(copyBuffer, 0, n);
                left -= n;
            }
            pad(entry.size());
        }
    }

    /** Writes the end-of-archive marker, two zero blocks. */
    void finish() throws IOException {
        out.write(new byte[2 * BLOCK]);
        out.flush();
    }

    private void pad(long size) throws IOException {
        int padding = (int) ((BLOCK - size % BLOCK) % BLOCK);
        if (padding > 0) {
            out.write(new byte[padding]);
        }
    }

    private static byte[] header(byte[] name, char type, int mode, long uid, long gid, long size, long mtime,
                                 byte[] link, int major, int minor) {
        byte[] h = new byte[BLOCK];
        System.arraycopy(name, 0, h, 0, Math.min(100, name.length));
        octal(h, 100, 8, mode);
        octal(h, 108, 8, uid);
        octal(h, 116, 8, gid);
        octal(h, 124, 12, size);
        octal(h, 136, 12, mtime);
        h[156] = (byte) type;
        System.arraycopy(link, 0, h, 157, Math.min(100, link.length));
        System.arraycopy("ustar\0".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 6);
        h[263] = '0';
        h[264] = '0';
        if (type == TarEntry.Type.CHAR_DEVICE.flag || type == TarEntry.Type.BLOCK_DEVICE.flag) {
            octal(h, 329, 8, major);
            octal(h, 337, 8, minor);
        }
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        String checksum = String.format("%06o", sum);
        System.arraycopy(checksum.getBytes(StandardCharsets.US_ASCII), 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
        return h;
    }

    /** Zero-padded octal ending in NUL; a value that does not fit is left zero (PAX carries it). */
    private static void octal(byte[] h, int offset, int length, long value) {
        String digits = Long.toOctalString(value);
        if (value < 0 || digits.length() > length - 1) {
            digits = "0";
        }
        String padded = "0".repeat(length - 1 - digits.length()) + digits;
        System.arraycopy(padded.getBytes(StandardCharsets.US_ASCII), 0, h, offset, length - 1);
    }

    private static byte[] paxRecords(Map<String, byte[]> records) {
        var out = new java.io.ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> record : records.entrySet()) {
            byte[] key = record.getKey().getBytes(StandardCharsets.UTF_8);
            int rest = key.length + record.getValue().length + 3; // space, '=', newline
            int length = rest + Integer.toString(rest).length();
            if (Integer.toString(length).length() != Integer.toString(rest).length()) {
                length++;
            }
            out.writeBytes(Integer.toString(length).getBytes(StandardCharsets.US_ASCII));
            out.write(' ');
            out.writeBytes(key);
            out.write('=');
            out.writeBytes(record.getValue());
            out.write('\n');
        }
        return out.toByteArray();
    }

    private static boolean ascii(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0x20 || b == 0x7f) {
                return false;
            }
        }
        return true;
    }
}
