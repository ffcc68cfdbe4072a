package dev.berth.bootstrap.h2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.bootstrap.h2.HpackDecoder.CompressionException;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Headers;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class HpackDecoderTest {
    private static final String DATE_21 = "Mon, 21 Oct 2013 20:13:21 GMT";
    private static final String DATE_22 = "Mon, 21 Oct 2013 20:13:22 GMT";
    private static final String COOKIE = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
    /** A dynamic table size update to 256, which RFC 7541 C.5 and C.6 assume the encoder has made. */
    private static final String TABLE_SIZE_256 = "3fe101";

    // RFC 7541 C.2: literal field representations, each on a fresh decoder

    @Test
    void literalWithIndexingIsAddedToTheTable() throws Exception {
        HpackDecoder decoder = new HpackDecoder(Integer.MAX_VALUE);
        assertEquals(List.of("custom-key", "custom-header"),
            decode(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
        assertTable(decoder, "custom-key", "custom-header");
    }

    @Test
    void literalWithoutIndexingLeavesTheTableEmpty() throws Exception {
        HpackDecoder decoder = new HpackDecoder(Integer.MAX_VALUE);
        assertEquals(List.of(":path", "/sample/path"), decode(decoder, "040c 2f73 616d 706c 652f 7061 7468"));
        assertTable(decoder);
    }

    @Test
    void literalNeverIndexedLeavesTheTableEmpty() throws Exception {
        HpackDecoder decoder = new HpackDecoder(Integer.MAX_VALUE);
        assertEquals(List.of("password", "secret"), decode(decoder, "1008 7061 7373 776f 7264 0673 6563 7265 74"));
        assertTable(decoder);
    }

    @Test
    void indexedFieldFromTheStaticTable() throws Exception {
        HpackDecoder decoder = new HpackDecoder(Integer.MAX_VALUE);
        assertEquals(List.of(":method", "GET"), decode(decoder, "82"));
        assertTable(decoder);
    }

    // RFC 7541 C.3 and C.4: three requests on one connection

    @ParameterizedTest(name = "huffman={0}")
    @ValueSource(booleans = {false, true})
    void requestsShareTheDynamicTable(boolean huffman) throws Exception {
        HpackDecoder decoder = new HpackDecoder(Integer.MAX_VALUE);
        assertEquals(List.of(":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com"),
            decode(decoder, huffman
                ? "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"
                : "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"));
        assertTable(decoder, ":authority", "www.example.com");

        assertEquals(List.of(":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com",
                "cache-control", "no-cache"),
            decode(decoder, huffman
                ? "8286 84be 5886 a8eb 1064 9cbf"
                : "8286 84be 5808 6e6f 2d63 6163 6865"));
        assertTable(decoder, "cache-control", "no-cache", ":authority", "www.example.com");

        assertEquals(List.of(":method", "GET", ":scheme", "https", ":path", "/index.html",
                ":authority", "www.example.com", "custom-key", "custom-value"),
            decode(decoder, huffman
                ? "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"
                : "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"));
        assertTable(decoder, "custom-key", "custom-value", "cache-control", "no-cache",
            ":authority", "www.example.com");
    }

    // RFC 7541 C.5 and C.6: three responses on one connection whose encoder keeps a 256-byte table, so entries are
    // evicted

    @ParameterizedTest(name = "huffman={0}")
    @ValueSource(booleans = {false, true})
    void responsesEvictTheOldestEntries(boolean huffman) throws Exception {
        HpackDecoder decoder = new HpackDecoder(Integer.MAX_VALUE);
        assertEquals(List.of(":status", "302", "cache-control", "private", "date", DATE_21,
                "location", "https://www.example.com"),
            decode(decoder, TABLE_SIZE_256 + (huffman
                ? """
                  4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
                  2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"""
                : """
                  4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
                  2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
                  6c65 2e63 6f6d""")));
        assertTable(decoder, "location", "https://www.example.com", "date", DATE_21, "cache-control", "private",
            ":status", "302");

        // adding ":status: 307" evicts ":status: 302"
        assertEquals(List.of(":status", "307", "cache-control", "private", "date", DATE_21,
                "location", "https://www.example.com"),
            decode(decoder, huffman ? "4883 640e ffc1 c0bf" : "4803 3330 37c1 c0bf"));
        assertTable(decoder, ":status", "307", "location", "https://www.example.com", "date", DATE_21,
            "cache-control", "private");

        assertEquals(List.of(":status", "200", "cache-control", "private", "date", DATE_22,
                "location", "https://www.example.com", "content-encoding", "gzip", "set-cookie", COOKIE),
            decode(decoder, huffman
                ? """
                  88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
                  77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
                  9587 3160 65c0 03ed 4ee5 b106 3d50 07"""
                : """
                  88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
                  54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
                  5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
                  3d31"""));
        assertTable(decoder, "set-cookie", COOKIE, "content-encoding", "gzip", "date", DATE_22);
    }

    // the table's limits

    @Test
    void tableSizeUpdateEvictsUntilTheTableFits() throws Exception {
        HpackDecoder decoder = new HpackDecoder(Integer.MAX_VALUE);
        // custom-key: custom-header (55 bytes), then k: v (34 bytes)
        decode(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572 4001 6b01 76");
        assertTable(decoder, "k", "v", "custom-key", "custom-header");
        // two updates may open a block: to 0, which empties the table, then back up to 60
        assertEquals(List.of(), decode(decoder, "20 3f1d"));
        assertTable(decoder);

        decode(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572 4001 6b01 76");
        // 55 + 34 bytes do not fit in 60: the older entry goes
        assertTable(decoder, "k", "v");
        // the largest size this side allows
        assertEquals(List.of(), decode(decoder, "3fe11f"));
        assertTable(decoder, "k", "v");
    }

    @Test
    void entriesThatFillTheTableExactlyAllStay() throws Exception {
        HpackDecoder decoder = new HpackDecoder(Integer.MAX_VALUE);
        // limit 100, then a: b (34 bytes) and c: 33 y's (66 bytes)
        String value = "y".repeat(33);
        decode(decoder, "3f45 4001 6101 62 4001 6321" + hex(value));
        assertTable(decoder, "c", value, "a", "b");
    }

    @Test
    void entryLargerThanTheTableEmptiesIt() throws Exception {
        HpackDecoder decoder = new HpackDecoder(Integer.MAX_VALUE);
        // limit 100, then a: b (34 bytes)
        decode(decoder, "3f45 4001 6101 62");
        assertTable(decoder, "a", "b");
        String value = "x".repeat(80);
        assertEquals(List.of("a", value),
            decode(decoder, "7e 50" + hex(value)));
        assertTable(decoder);
    }

    @Test
    void staticTableAgreesWithNetty() throws Exception {
        HpackDecoder decoder = new HpackDecoder(Integer.MAX_VALUE);
        DefaultHttp2HeadersDecoder netty = new DefaultHttp2HeadersDecoder(false);
        for (int index = 1; index <= 61; index++) {
            byte[] block = {(byte) (0x80 | index)};
            Http2Headers headers = netty.decodeHeaders(1, Unpooled.wrappedBuffer(block));
            assertEquals(fields(headers), strings(decoder.decode(block, 0, 1)), "index " + index);
        }
    }

    // round trips against an independent encoder

    @ParameterizedTest(name = "huffman threshold={0}")
    @ValueSource(ints = {0, 512})
    void decodesWhatNettyEncodes(int huffmanThreshold) throws Exception {
        Random random = new Random(7541L + huffmanThreshold);
        // some names never indexed, so that representation comes up too
        DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder(
            (name, value) -> (name.length() + value.length()) % 7 == 0, false, 16, huffmanThreshold);
        HpackDecoder decoder = new HpackDecoder(Integer.MAX_VALUE);
        List<AsciiString> names = new ArrayList<>();
        List<AsciiString> values = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            names.add(randomName(random));
            values.add(randomValue(random));
        }
        names.addAll(List.of(new AsciiString("content-type"), new AsciiString(":path"), new AsciiString("te")));
        int sizeUpdates = 0;
        for (int block = 0; block < 300; block++) {
            if (random.nextInt(20) == 0) {
                // the encoder opens its next block with a dynamic table size update
                encoder.maxHeaderTableSize(new int[] {0, 64, 256, 1024, 4096}[random.nextInt(5)]);
                sizeUpdates++;
            }
            Http2Headers headers = new DefaultHttp2Headers(false);
            int count = 1 + random.nextInt(20);
            for (int i = 0; i < count; i++) {
                AsciiString name = random.nextInt(8) == 0
                    ? randomName(random) : names.get(random.nextInt(names.size()));
                AsciiString value = random.nextInt(4) == 0
                    ? randomValue(random) : values.get(random.nextInt(values.size()));
                headers.add(name, value);
            }
            byte[] encoded = encode(encoder, headers);
            // the block sits inside a larger buffer, as it does in a connection's
            byte[] buffer = new byte[encoded.length + 20];
            Arrays.fill(buffer, (byte) 0xff);
            System.arraycopy(encoded, 0, buffer, 7, encoded.length);
            assertEquals(fields(headers), strings(decoder.decode(buffer, 7, encoded.length)), "block " + block);
        }
        assertTrue(sizeUpdates > 0, "no dynamic table size update was exercised");
    }

    @Test
    void decodesEveryHuffmanSymbol() throws Exception {
        // a run of 'a' (5 bits each) makes the Huffman code shorter than the raw bytes whatever the byte among them
        DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder(
            (name, value) -> false, false, 16, 0);
        Http2Headers headers = new DefaultHttp2Headers(false);
        int rawLength = 0;
        for (int b = 0; b < 256; b++) {
            byte[] value = "aaaaaaaaaaaaaaaaaaaaaaaa?aaaa".getBytes(StandardCharsets.US_ASCII);
            value[24] = (byte) b;
            headers.add(new AsciiString("x" + b), new AsciiString(value));
            rawLength += value.length;
        }
        byte[] encoded = encode(encoder, headers);
        assertTrue(encoded.length < rawLength, "the values were not Huffman-coded");
        assertEquals(fields(headers), strings(new HpackDecoder(Integer.MAX_VALUE).decode(encoded, 0, encoded.length)));
    }

    // malformed blocks

    static Stream<Arguments> malformedBlocks() {
        return Stream.of(
            Arguments.of("index 0", "80"),
            Arguments.of("index past the static table with an empty dynamic table", "be"),
            Arguments.of("name index past the tables", "7e 0161"),
            Arguments.of("truncated integer", "ff"),
            Arguments.of("truncated integer continuation", "ff 80"),
            // 2^32 + 2, which an unchecked int would wrap to index 2
            Arguments.of("integer over an int", "ff 83ffffff0f"),
            Arguments.of("integer with too many continuation bytes", "ff 8080808080 00"),
            Arguments.of("missing name", "40"),
            Arguments.of("missing value", "40 0161"),
            Arguments.of("truncated name", "40 056162"),
            Arguments.of("truncated value", "40 0161 0361"),
            Arguments.of("string length past the block", "40 7fffffffff03"),
            Arguments.of("Huffman string holding EOS", "40 0161 84ffffffff"),
            Arguments.of("Huffman string with EOS then more", "40 0161 85ffffffff18"),
            // thirty-two ones, then a 0 that would complete the 30-bit code 0x3ffffffe, then seven ones of padding
            Arguments.of("Huffman string with EOS then a valid end", "40 0161 85ffffffff7f"),
            Arguments.of("Huffman padding of 11 bits", "40 0161 821fff"),
            Arguments.of("Huffman padding of 8 bits alone", "40 0161 81ff"),
            Arguments.of("Huffman padding with zeros", "40 0161 8118"),
            Arguments.of("Huffman string cut inside a code", "40 0161 81fe"),
            Arguments.of("table size update over 4096", "3fe21f"),
            Arguments.of("table size update after a field", "82 20"),
            Arguments.of("table size update after a field with an index past it", "82 3fe21f"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedBlocks")
    void rejectsMalformedBlocks(String what, String hex) {
        byte[] block = bytes(hex);
        HpackDecoder decoder = new HpackDecoder(Integer.MAX_VALUE);
        assertThrows(CompressionException.class, () -> decoder.decode(block, 0, block.length), what);
    }

    @Test
    void wellFormedCounterpartsOfTheMalformedBlocksDecode() throws Exception {
        HpackDecoder decoder = new HpackDecoder(Integer.MAX_VALUE);
        // 'a' is 00011, padded with three ones
        assertEquals(List.of("a", "a"), decode(decoder, "40 0161 811f"));
        // the largest index there is now
        assertEquals(List.of("a", "a"), decode(decoder, "be"));
        // table size 31: a full prefix and a continuation byte of 0, then the same padded to five continuation bytes
        assertEquals(List.of(), decode(decoder, "3f00"));
        assertEquals(List.of(), decode(decoder, "3f8080808000"));
        assertEquals(List.of(), decode(decoder, ""));
    }

    @Test
    void compressionExceptionHasNoStackTrace() {
        byte[] block = bytes("80");
        CompressionException e = assertThrows(CompressionException.class,
            () -> new HpackDecoder(Integer.MAX_VALUE).decode(block, 0, 1));
        assertEquals(0, e.getStackTrace().length);
    }

    // the header list size limit

    @Test
    void overSizeListIsDecodedToItsEndButNotReturned() throws Exception {
        // custom-key: custom-header is 55 bytes, big: 60 x's is 95
        String big = "x".repeat(60);
        String block = "4003 626967 3c" + hex(big)
            + "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572";

        assertEquals(List.of("big", big, "custom-key", "custom-header"), decode(new HpackDecoder(150), block));

        HpackDecoder decoder = new HpackDecoder(149);
        assertNull(decoder.decode(bytes(block), 0, bytes(block).length));
        // both entries were added, the second after the limit was passed
        assertEquals(List.of("custom-key", "custom-header"), decode(decoder, "be"));
        assertEquals(List.of("big", big), decode(decoder, "bf"));
        assertNull(decoder.decode(bytes("bebf"), 0, 2));
    }

    private static AsciiString randomName(Random random) {
        char[] name = new char[1 + random.nextInt(16)];
        for (int i = 0; i < name.length; i++) {
            name[i] = (char) ('a' + random.nextInt(26));
        }
        return new AsciiString(name);
    }

    /** Short or long, ASCII text or any bytes, or text with a few bytes of any value in it. */
    private static AsciiString randomValue(Random random) {
        int length = switch (random.nextInt(4)) {
            case 0 -> 0;
            case 1, 2 -> 1 + random.nextInt(40);
            default -> 100 + random.nextInt(3000);
        };
        byte[] value = new byte[length];
        int kind = random.nextInt(3);
        for (int i = 0; i < length; i++) {
            value[i] = kind == 0 || kind == 2 && random.nextInt(10) == 0
                ? (byte) random.nextInt(256)
                : (byte) (' ' + random.nextInt(95));
        }
        return new AsciiString(value);
    }

    private static byte[] encode(DefaultHttp2HeadersEncoder encoder, Http2Headers headers) throws Exception {
        ByteBuf buf = Unpooled.buffer();
        try {
            encoder.encodeHeaders(1, headers, buf);
            byte[] encoded = new byte[buf.readableBytes()];
            buf.readBytes(encoded);
            return encoded;
        } finally {
            buf.release();
        }
    }

    /** The fields in the order an encoder writes them, names and values alternating. */
    private static List<String> fields(Http2Headers headers) {
        List<String> fields = new ArrayList<>();
        for (Map.Entry<CharSequence, CharSequence> field : headers) {
            fields.add(AsciiString.of(field.getKey()).toString());
            fields.add(AsciiString.of(field.getValue()).toString());
        }
        return fields;
    }

    /** Asserts the dynamic table's entries, newest first, by referring to each and to the index just past them. */
    private static void assertTable(HpackDecoder decoder, String... namesAndValues) throws Exception {
        int entries = namesAndValues.length / 2;
        byte[] block = new byte[entries];
        for (int i = 0; i < entries; i++) {
            block[i] = (byte) (0x80 | 62 + i);
        }
        assertEquals(List.of(namesAndValues), strings(decoder.decode(block, 0, block.length)));
        byte[] past = {(byte) (0x80 | 62 + entries)};
        assertThrows(CompressionException.class, () -> decoder.decode(past, 0, 1), "index past the table");
    }

    private static List<String> decode(HpackDecoder decoder, String hex) throws CompressionException {
        byte[] block = bytes(hex);
        return strings(decoder.decode(block, 0, block.length));
    }

    /** The fields as ISO-8859-1 strings, which keeps every byte as one char. */
    private static List<String> strings(byte[][] fields) {
        assertTrue(fields != null, "the header list was over its limit");
        return Arrays.stream(fields).map(field -> new String(field, StandardCharsets.ISO_8859_1)).toList();
    }

    private static String hex(String ascii) {
        return HexFormat.of().formatHex(ascii.getBytes(StandardCharsets.US_ASCII));
    }

    private static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replaceAll("\\s", ""));
    }
}
