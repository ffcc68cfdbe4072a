package dev.berth.bootstrap.h2;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * HTTP/2's frame constants (RFC 9113) and an output buffer that frames are encoded into before a connection
 * writes them in one system call.
 */
final class Frames {
    static final int HEADER_LENGTH = 9;
    static final byte[] CLIENT_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    static final int DATA = 0x0;
    static final int HEADERS = 0x1;
    static final int PRIORITY = 0x2;
    static final int RST_STREAM = 0x3;
    static final int SETTINGS = 0x4;
    static final int PUSH_PROMISE = 0x5;
    static final int PING = 0x6;
    static final int GOAWAY = 0x7;
    static final int WINDOW_UPDATE = 0x8;
    static final int CONTINUATION = 0x9;

    static final int FLAG_END_STREAM = 0x1;
    static final int FLAG_ACK = 0x1;
    static final int FLAG_END_HEADERS = 0x4;
    static final int FLAG_PADDED = 0x8;
    static final int FLAG_PRIORITY = 0x20;

    static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
    static final int SETTINGS_MAX_FRAME_SIZE = 0x5;
    static final int SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;

    static final int NO_ERROR = 0x0;
    static final int PROTOCOL_ERROR = 0x1;
    static final int FLOW_CONTROL_ERROR = 0x3;
    static final int FRAME_SIZE_ERROR = 0x6;
    static final int REFUSED_STREAM = 0x7;
    static final int CANCEL = 0x8;
    static final int COMPRESSION_ERROR = 0x9;

    /** The smallest frame payload every peer accepts, and the largest this transport accepts. */
    static final int DEFAULT_MAX_FRAME_SIZE = 16_384;
    static final int DEFAULT_WINDOW = 65_535;
    static final int MAX_WINDOW = Integer.MAX_VALUE;

    private Frames() {}

    /** A growable byte buffer that frames are encoded into. */
    static final class Out {
        private byte[] bytes;
        private int size;

        Out() {
            this(4096);
        }

        Out(int capacity) {
            bytes = new byte[capacity];
        }

        int size() {
            return size;
        }

        byte[] array() {
            return bytes;
        }

        void clear() {
            size = 0;
        }

        private void ensure(int more) {
            if (size + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
            }
        }

        void header(int length, int type, int flags, int streamId) {
            ensure(HEADER_LENGTH);
            bytes[size++] = (byte) (length >>> 16);
            bytes[size++] = (byte) (length >>> 8);
            bytes[size++] = (byte) length;
            bytes[size++] = (byte) type;
            bytes[size++] = (byte) flags;
            int32(streamId);
        }

        void int32(int value) {
            ensure(4);
            bytes[size++] = (byte) (value >>> 24);
            bytes[size++] = (byte) (value >>> 16);
            bytes[size++] = (byte) (value >>> 8);
            bytes[size++] = (byte) value;
        }

        void int16(int value) {
            ensure(2);
            bytes[size++] = (byte) (value >>> 8);
            bytes[size++] = (byte) value;
        }

        void write(byte[] source, int offset, int length) {
            ensure(length);
            System.arraycopy(source, offset, bytes, size, length);
            size += length;
        }

        void settings(int... idsAndValues) {
            header(idsAndValues.length / 2 * 6, SETTINGS, 0, 0);
            for (int i = 0; i < idsAndValues.length; i += 2) {
                int16(idsAndValues[i]);
                int32(idsAndValues[i + 1]);
            }
        }

        void windowUpdate(int streamId, int increment) {
            header(4, WINDOW_UPDATE, 0, streamId);
            int32(increment);
        }

        void rstStream(int streamId, int errorCode) {
            header(4, RST_STREAM, 0, streamId);
            int32(errorCode);
        }

        void goAway(int lastStreamId, int errorCode) {
            header(8, GOAWAY, 0, 0);
            int32(lastStreamId);
            int32(errorCode);
        }
    }

    /**
     * The header block of {@code namesAndValues} in HPACK (RFC 7541): ":status: 200" from the static table,
     * every other field as a literal that is not indexed. A response's few headers gain little from the
     * dynamic table, and leaving it alone keeps the peer's table size setting out of play.
     */
    static byte[] headerBlock(boolean status200, byte[][] namesAndValues) {
        // room for every field with its longest length prefixes: one grow-free pass, as this runs per call
        int capacity = 1;
        for (byte[] nameOrValue : namesAndValues) {
            capacity += nameOrValue.length + 6;
        }
        Out out = new Out(capacity);
        if (status200) {
            out.ensure(1);
            out.bytes[out.size++] = (byte) 0x88;
        }
        for (int i = 0; i + 1 < namesAndValues.length; i += 2) {
            out.ensure(1);
            out.bytes[out.size++] = 0x00;
            literal(out, namesAndValues[i]);
            literal(out, namesAndValues[i + 1]);
        }
        return Arrays.copyOf(out.bytes, out.size);
    }

    private static void literal(Out out, byte[] value) {
        // a string's length is an integer with a 7-bit prefix, its top bit clear: not Huffman coded
        int length = value.length;
        out.ensure(6 + length);
        if (length < 0x7f) {
            out.bytes[out.size++] = (byte) length;
        } else {
            out.bytes[out.size++] = 0x7f;
            length -= 0x7f;
            while (length >= 0x80) {
                out.bytes[out.size++] = (byte) ((length & 0x7f) | 0x80);
                length >>>= 7;
            }
            out.bytes[out.size++] = (byte) length;
        }
        System.arraycopy(value, 0, out.bytes, out.size, value.length);
        out.size += value.length;
    }
}
