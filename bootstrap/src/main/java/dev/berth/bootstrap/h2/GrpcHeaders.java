package dev.berth.bootstrap.h2;

import io.grpc.InternalMetadata;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.internal.TransportFrameUtil;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** gRPC's use of HTTP/2 header fields (gRPC over HTTP2): what a request carries, and what a response sends. */
final class GrpcHeaders {
    private static final byte[] CONTENT_TYPE = bytes("content-type");
    private static final byte[] GRPC_CONTENT_TYPE = bytes("application/grpc");

    private GrpcHeaders() {}

    /**
     * What a request's header fields say: its pseudo-header fields, and the rest as the call's metadata;
     * or, when the fields are malformed (RFC 9113, 8.1.1), why.
     */
    record Request(String method, String path, String authority, String contentType, byte[][] fields, String malformed) {
        static Request of(byte[][] fields) {
            String method = null;
            String path = null;
            String authority = null;
            String contentType = null;
            byte[][] metadata = new byte[fields.length][];
            int n = 0;
            for (int i = 0; i + 1 < fields.length; i += 2) {
                byte[] name = fields[i];
                byte[] value = fields[i + 1];
                if (name.length > 0 && name[0] == ':') {
                    if (n > 0) {
                        return malformed("pseudo-header field " + latin1(name) + " after a regular one");
                    }
                    switch (latin1(name)) {
                        case ":method" -> method = latin1(value);
                        case ":path" -> path = latin1(value);
                        case ":authority" -> authority = latin1(value);
                        case ":scheme" -> {
                            // http on a local socket; nothing depends on it
                        }
                        default -> {
                            return malformed("unknown pseudo-header field " + latin1(name));
                        }
                    }
                    continue;
                }
                for (byte b : name) {
                    if (b >= 'A' && b <= 'Z') {
                        return malformed("header field name " + latin1(name) + " is not lowercase");
                    }
                }
                if (Arrays.equals(name, CONTENT_TYPE)) {
                    contentType = latin1(value);
                }
                metadata[n++] = name;
                metadata[n++] = value;
            }
            return new Request(method, path, authority, contentType, Arrays.copyOf(metadata, n), null);
        }

        private static Request malformed(String why) {
            return new Request(null, null, null, null, null, "malformed request: " + why);
        }

        /** The call's metadata: every field but the pseudo-header ones, binary values decoded from base64. */
        Metadata metadata() {
            return InternalMetadata.newMetadata(TransportFrameUtil.toRawSerializedHeaders(fields.clone()));
        }
    }

    /**
     * The fields of response headers or trailers: {@code metadata}, led by gRPC's content type when
     * {@code withContentType}; pseudo-header fields and any other content type in it are left out.
     */
    static byte[][] response(Metadata metadata, boolean withContentType) {
        byte[][] serialized = TransportFrameUtil.toHttp2Headers(metadata);
        byte[][] namesAndValues = new byte[serialized.length + 2][];
        int n = 0;
        if (withContentType) {
            namesAndValues[n++] = CONTENT_TYPE;
            namesAndValues[n++] = GRPC_CONTENT_TYPE;
        }
        for (int i = 0; i + 1 < serialized.length; i += 2) {
            byte[] name = serialized[i];
            if (name.length == 0 || name[0] == ':' || Arrays.equals(name, CONTENT_TYPE)) {
                continue;
            }
            namesAndValues[n++] = name;
            namesAndValues[n++] = serialized[i + 1];
        }
        return Arrays.copyOf(namesAndValues, n);
    }

    /** The header block that answers a request that is not a gRPC call: an HTTP status and a gRPC status. */
    static byte[] refusal(int httpStatus, Status.Code code, String message) {
        return Frames.headerBlock(false, new byte[][] {
                bytes(":status"), bytes(Integer.toString(httpStatus)),
                CONTENT_TYPE, bytes("text/plain; charset=utf-8"),
                bytes("grpc-status"), bytes(Integer.toString(code.value())),
                // grpc-message is percent-encoded; printable ASCII but '%' stands for itself
                bytes("grpc-message"), bytes(message.replaceAll("[^ -~]", "?").replace("%", "%25"))});
    }

    private static byte[] bytes(String ascii) {
        return ascii.getBytes(StandardCharsets.US_ASCII);
    }

    private static String latin1(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }
}
