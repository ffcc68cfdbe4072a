package dev.berth.bootstrap.h2;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * Decodes the header blocks of one HTTP/2 connection (HPACK, RFC 7541), keeping its dynamic table between blocks.
 *
 * <p>The peer's encoder and this decoder each keep a copy of the dynamic table, so the blocks of a connection must be
 * decoded one at a time, each to its end, in the order they arrived; an instance is not safe for concurrent use.
 * After a {@link CompressionException} the table is out of step with the peer's and the connection must end.
 *
 * <p>The decoded byte arrays are shared with the static table, the dynamic table and the results of later blocks, so
 * that a field referred to by index costs no copy: callers read them and never write to them.
 */
final class HpackDecoder {
    /** The dynamic table's limit this side advertises: HTTP/2's default SETTINGS_HEADER_TABLE_SIZE, never changed. */
    static final int MAX_TABLE_SIZE = 4096;

    /** RFC 7541 4.1: an entry, and a field of a header list, counts 32 bytes besides its name and value. */
    private static final int ENTRY_OVERHEAD = 32;
    /** No entry is smaller than its overhead, so the table never holds more entries than this (a power of two). */
    private static final int MAX_ENTRIES = MAX_TABLE_SIZE / ENTRY_OVERHEAD;
    private static final int SLOT_MASK = MAX_ENTRIES - 1;
    /**
     * Five continuation bytes carry 35 bits, more than any int: a sixth could only be zeros lengthening the encoding,
     * which no encoder has a reason to send.
     */
    private static final int MAX_CONTINUATION_BYTES = 5;

    private static final byte[] EMPTY = {};
    /** RFC 7541 Appendix A, index 1 first. */
    private static final byte[][] STATIC_NAMES;
    private static final byte[][] STATIC_VALUES;

    static {
        String[] table = {
            ":authority", "",
            ":method", "GET",
            ":method", "POST",
            ":path", "/",
            ":path", "/index.html",
            ":scheme", "http",
            ":scheme", "https",
            ":status", "200",
            ":status", "204",
            ":status", "206",
            ":status", "304",
            ":status", "400",
            ":status", "404",
            ":status", "500",
            "accept-charset", "",
            "accept-encoding", "gzip, deflate",
            "accept-language", "",
            "accept-ranges", "",
            "accept", "",
            "access-control-allow-origin", "",
            "age", "",
            "allow", "",
            "authorization", "",
            "cache-control", "",
            "content-disposition", "",
            "content-encoding", "",
            "content-language", "",
            "content-length", "",
            "content-location", "",
            "content-range", "",
            "content-type", "",
            "cookie", "",
            "date", "",
            "etag", "",
            "expect", "",
            "expires", "",
            "from", "",
            "host", "",
            "if-match", "",
            "if-modified-since", "",
            "if-none-match", "",
            "if-range", "",
            "if-unmodified-since", "",
            "last-modified", "",
            "link", "",
            "location", "",
            "max-forwards", "",
            "proxy-authenticate", "",
            "proxy-authorization", "",
            "range", "",
            "referer", "",
            "refresh", "",
            "retry-after", "",
            "server", "",
            "set-cookie", "",
            "strict-transport-security", "",
            "transfer-encoding", "",
            "user-agent", "",
            "vary", "",
            "via", "",
            "www-authenticate", "",
        };
        STATIC_NAMES = new byte[table.length / 2][];
        STATIC_VALUES = new byte[table.length / 2][];
        for (int i = 0; i < STATIC_NAMES.length; i++) {
            STATIC_NAMES[i] = table[2 * i].getBytes(StandardCharsets.US_ASCII);
            String value = table[2 * i + 1];
            STATIC_VALUES[i] = value.isEmpty() ? EMPTY : value.getBytes(StandardCharsets.US_ASCII);
        }
    }

    /** RFC 7541 Appendix B: the code of each byte value and of EOS (256), right-aligned, and its length in bits. */
    private static final int[] HUFFMAN_CODES = {
        0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
        0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
        0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
        0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
        0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa,
        0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
        0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
        0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
        0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
        0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
        0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
        0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
        0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26,
        0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
        0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78,
        0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
        0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
        0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
        0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
        0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
        0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
        0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
        0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
        0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
        0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
        0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
        0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
        0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
        0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
        0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
        0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
        0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
        0x3fffffff
    };
    private static final byte[] HUFFMAN_CODE_LENGTHS = {
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30
    };

    /** The symbol that ends a Huffman string in the code but must never appear inside one (RFC 7541 5.2). */
    private static final int EOS = 256;
    /*
     * The Huffman decoder is a state machine that reads four bits at a time, after the one nghttp2 uses: a state is
     * an inner node of the code's tree (the code is complete, so 257 leaves make 256 inner nodes, the root being 0),
     * and HUFFMAN_TRANSITIONS[state * 16 + nibble] holds the state reached after those four bits, with the symbol
     * completed on the way, if any (every code has at least 5 bits, so at most one per nibble), or a mark that EOS was.
     * Two table reads per input byte and no branching on the code's structure.
     */
    private static final int NEXT_STATE_MASK = 0xff;
    private static final int EMITS = 0x100;
    private static final int SYMBOL_SHIFT = 16;
    private static final int REACHED_EOS = 0x8000_0000;
    private static final int[] HUFFMAN_TRANSITIONS = new int[256 * 16];
    /**
     * The states a string may end in: the root, or up to seven 1 bits into a code, which is how RFC 7541 5.2 allows a
     * string to be padded to whole bytes (with the most significant bits of EOS, which are all ones).
     */
    private static final boolean[] HUFFMAN_FINAL = new boolean[256];

    static {
        // child[node * 2 + bit]: an inner node's number if positive, else -(symbol + 1); the root is no one's child
        int[] child = new int[256 * 2];
        int nodes = 1;
        for (int symbol = 0; symbol <= EOS; symbol++) {
            int code = HUFFMAN_CODES[symbol];
            int node = 0;
            for (int bit = HUFFMAN_CODE_LENGTHS[symbol] - 1; bit > 0; bit--) {
                int slot = node * 2 + ((code >>> bit) & 1);
                if (child[slot] == 0) {
                    child[slot] = nodes++;
                }
                node = child[slot];
            }
            child[node * 2 + (code & 1)] = -(symbol + 1);
        }
        for (int state = 0; state < 256; state++) {
            for (int nibble = 0; nibble < 16; nibble++) {
                int node = state;
                int transition = 0;
                for (int bit = 3; bit >= 0; bit--) {
                    int next = child[node * 2 + ((nibble >>> bit) & 1)];
                    if (next > 0) {
                        node = next;
                    } else if (-next - 1 == EOS) {
                        transition = REACHED_EOS;
                        break;
                    } else {
                        transition = EMITS | (-next - 1) << SYMBOL_SHIFT;
                        node = 0;
                    }
                }
                HUFFMAN_TRANSITIONS[state * 16 + nibble] = transition | node;
            }
        }
        // EOS is thirty 1 bits, so the first seven nodes down the 1 branches are inner nodes
        int node = 0;
        HUFFMAN_FINAL[node] = true;
        for (int ones = 1; ones <= 7; ones++) {
            node = child[node * 2 + 1];
            HUFFMAN_FINAL[node] = true;
        }
    }

    private final int maxHeaderListSize;

    /*
     * The dynamic table: a ring whose newest entry is at slot `first` and whose older entries follow it, so that
     * dynamic index i (0 for the newest) is slot (first + i) & SLOT_MASK.
     */
    private final byte[][] tableNames = new byte[MAX_ENTRIES][];
    private final byte[][] tableValues = new byte[MAX_ENTRIES][];
    private int first;
    private int entries;
    private int tableSize;
    /** The limit the peer's encoder last chose by a dynamic table size update, at most MAX_TABLE_SIZE. */
    private int tableLimit = MAX_TABLE_SIZE;

    /** Reused between blocks: the fields decoded so far, and the bytes of a Huffman string before it is copied out. */
    private byte[][] fields = new byte[32][];
    private byte[] huffmanOut = new byte[256];

    /** The block being decoded (kept only while it is), and the bounds of what is left of it. */
    private byte[] in;
    private int pos;
    private int end;

    /**
     * @param maxHeaderListSize the largest header list (RFC 7541 4.1 size) {@link #decode} returns; the
     *                          SETTINGS_MAX_HEADER_LIST_SIZE this side advertises
     */
    HpackDecoder(int maxHeaderListSize) {
        if (maxHeaderListSize < 0) {
            throw new IllegalArgumentException("maxHeaderListSize is negative: " + maxHeaderListSize);
        }
        this.maxHeaderListSize = maxHeaderListSize;
    }

    /**
     * Decodes one whole header block (HEADERS plus any CONTINUATION payloads, joined), updating the dynamic table as
     * the block directs.
     *
     * <p>Header names and values are not validated: the caller checks what it needs.
     *
     * @return the fields in order, names and values alternating (byte arrays, as on the wire after decoding, shared
     *     with the decoder's tables: never to be written to); or null when the header list's size (RFC 7541 4.1:
     *     name + value + 32 per field) exceeds maxHeaderListSize, in which case the block was still decoded to its end
     *     so that the dynamic table stays in step with the peer's
     * @throws CompressionException when the block is malformed (RFC 9113 calls this a COMPRESSION_ERROR, a connection
     *     error): a bad index or integer, a truncated representation, a bad Huffman string, or a dynamic table size
     *     update that is too large or does not open the block
     */
    byte[][] decode(byte[] block, int offset, int length) throws CompressionException {
        Objects.checkFromIndexSize(offset, length, block.length);
        in = block;
        pos = offset;
        end = offset + length;
        try {
            return decodeFields();
        } finally {
            in = null;
        }
    }

    private byte[][] decodeFields() throws CompressionException {
        int count = 0;
        long listSize = 0;
        boolean fieldSeen = false;
        while (pos < end) {
            int b = in[pos] & 0xff;
            byte[] name;
            byte[] value;
            if ((b & 0x80) != 0) {
                // RFC 7541 6.1: indexed field
                int index = checkIndex(readInt(7));
                name = nameAt(index);
                value = valueAt(index);
            } else if ((b & 0x40) != 0) {
                // 6.2.1: literal with incremental indexing
                int index = readInt(6);
                name = index == 0 ? readString() : nameAt(checkIndex(index));
                value = readString();
                add(name, value);
            } else if ((b & 0x20) != 0) {
                // 6.3 and 4.2: a dynamic table size update is only allowed before the block's first field
                if (fieldSeen) {
                    throw new CompressionException("dynamic table size update after a header field");
                }
                int size = readInt(5);
                if (size > MAX_TABLE_SIZE) {
                    throw new CompressionException("dynamic table size update to " + size + ", over " + MAX_TABLE_SIZE);
                }
                tableLimit = size;
                evictTo(size);
                continue;
            } else {
                // 6.2.2 and 6.2.3: literal without indexing, or never indexed; both only concern whoever re-encodes
                int index = readInt(4);
                name = index == 0 ? readString() : nameAt(checkIndex(index));
                value = readString();
            }
            fieldSeen = true;
            listSize += (long) name.length + value.length + ENTRY_OVERHEAD;
            // past the limit the rest is still decoded for the table's sake, but no longer kept
            if (listSize <= maxHeaderListSize) {
                if (count + 2 > fields.length) {
                    fields = Arrays.copyOf(fields, fields.length * 2);
                }
                fields[count++] = name;
                fields[count++] = value;
            }
        }
        byte[][] result = listSize > maxHeaderListSize ? null : Arrays.copyOf(fields, count);
        // the reused array would otherwise keep the block's fields alive until the next block overwrites them
        Arrays.fill(fields, 0, count, null);
        return result;
    }

    /** RFC 7541 5.1: an integer whose first byte, at pos and already known to be there, holds its low prefixBits. */
    private int readInt(int prefixBits) throws CompressionException {
        int max = (1 << prefixBits) - 1;
        int value = in[pos++] & max;
        if (value < max) {
            return value;
        }
        long sum = value;
        for (int i = 0; i < MAX_CONTINUATION_BYTES; i++) {
            if (pos == end) {
                throw new CompressionException("truncated integer");
            }
            int b = in[pos++];
            sum += (long) (b & 0x7f) << (7 * i);
            if (sum > Integer.MAX_VALUE) {
                throw new CompressionException("integer over " + Integer.MAX_VALUE);
            }
            if ((b & 0x80) == 0) {
                return (int) sum;
            }
        }
        throw new CompressionException("integer longer than " + MAX_CONTINUATION_BYTES + " continuation bytes");
    }

    /** RFC 7541 5.2: a string literal, raw or Huffman-coded. */
    private byte[] readString() throws CompressionException {
        if (pos == end) {
            throw new CompressionException("truncated string");
        }
        boolean huffman = (in[pos] & 0x80) != 0;
        int length = readInt(7);
        if (length > end - pos) {
            throw new CompressionException("string of " + length + " bytes with " + (end - pos) + " left in the block");
        }
        int start = pos;
        pos += length;
        if (length == 0) {
            return EMPTY;
        }
        return huffman ? decodeHuffman(start, length) : Arrays.copyOfRange(in, start, pos);
    }

    private byte[] decodeHuffman(int start, int length) throws CompressionException {
        // every code is at least 5 bits long, which bounds the decoded length
        int bound = (int) ((long) length * 8 / 5);
        if (huffmanOut.length < bound) {
            huffmanOut = new byte[Math.max(bound, huffmanOut.length * 2)];
        }
        byte[] out = huffmanOut;
        int count = 0;
        int state = 0;
        for (int i = start, stop = start + length; i < stop; i++) {
            int b = in[i];
            int transition = HUFFMAN_TRANSITIONS[state << 4 | (b >>> 4) & 0xf];
            if ((transition & EMITS) != 0) {
                out[count++] = (byte) (transition >>> SYMBOL_SHIFT);
            }
            int second = HUFFMAN_TRANSITIONS[(transition & NEXT_STATE_MASK) << 4 | b & 0xf];
            if ((transition | second) < 0) {
                throw new CompressionException("EOS inside a Huffman-coded string");
            }
            if ((second & EMITS) != 0) {
                out[count++] = (byte) (second >>> SYMBOL_SHIFT);
            }
            state = second & NEXT_STATE_MASK;
        }
        if (!HUFFMAN_FINAL[state]) {
            throw new CompressionException("Huffman-coded string padded with more than 7 bits or not with ones");
        }
        return Arrays.copyOf(out, count);
    }

    /** RFC 7541 2.3.3: index 1 to 61 is the static table, and the dynamic table follows, newest entry first. */
    private int checkIndex(int index) throws CompressionException {
        if (index == 0 || index > STATIC_NAMES.length + entries) {
            throw new CompressionException(
                "index " + index + " outside the tables' 1 to " + (STATIC_NAMES.length + entries));
        }
        return index;
    }

    private byte[] nameAt(int index) {
        return index <= STATIC_NAMES.length
            ? STATIC_NAMES[index - 1]
            : tableNames[(first + index - STATIC_NAMES.length - 1) & SLOT_MASK];
    }

    private byte[] valueAt(int index) {
        return index <= STATIC_VALUES.length
            ? STATIC_VALUES[index - 1]
            : tableValues[(first + index - STATIC_VALUES.length - 1) & SLOT_MASK];
    }

    /** RFC 7541 4.4: evicts until the new entry fits; one larger than the whole table empties it and is not added. */
    private void add(byte[] name, byte[] value) {
        long size = (long) name.length + value.length + ENTRY_OVERHEAD;
        if (size > tableLimit) {
            evictTo(0);
            return;
        }
        evictTo(tableLimit - (int) size);
        first = (first - 1) & SLOT_MASK;
        tableNames[first] = name;
        tableValues[first] = value;
        entries++;
        tableSize += (int) size;
    }

    /** RFC 7541 4.3 and 4.4: evicts the oldest entries until the table's size is at most limit. */
    private void evictTo(int limit) {
        while (tableSize > limit) {
            int oldest = (first + entries - 1) & SLOT_MASK;
            tableSize -= tableNames[oldest].length + tableValues[oldest].length + ENTRY_OVERHEAD;
            tableNames[oldest] = null;
            tableValues[oldest] = null;
            entries--;
        }
    }

    /** A malformed header block: a connection error of type COMPRESSION_ERROR (RFC 9113 4.3). */
    static final class CompressionException extends Exception {
        private static final long serialVersionUID = 1L;

        CompressionException(String message) {
            // a peer can provoke these at will, so they cost no stack trace
            super(message, null, false, false);
        }
    }
}
