package dev.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.NotFoundException;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ErrorsTest {

    @ParameterizedTest
    @CsvSource({
        "NOT_FOUND, NOT_FOUND",
        "ALREADY_EXISTS, ALREADY_EXISTS",
        "INVALID_ARGUMENT, INVALID_ARGUMENT",
        "FAILED_PRECONDITION, FAILED_PRECONDITION",
        "UNAVAILABLE, UNAVAILABLE",
        "UNIMPLEMENTED, UNIMPLEMENTED",
        "CANCELED, CANCELLED",
        "DEADLINE_EXCEEDED, DEADLINE_EXCEEDED",
    })
    void eachKindHasItsCode(BerthException.Kind kind, Status.Code code) {
        StatusRuntimeException status = Errors.toStatus(BerthException.of(kind, "thing x"));
        assertEquals(code, status.getStatus().getCode());
        assertEquals("thing x: " + kind.text(), status.getStatus().getDescription());
    }

    @Test
    void anythingElseIsUnknownWithItsMessage() {
        StatusRuntimeException status = Errors.toStatus(new IOException("disk on fire"));
        assertEquals(Status.Code.UNKNOWN, status.getStatus().getCode());
        assertEquals("disk on fire", status.getStatus().getDescription());
    }

    @Test
    void anErrorWithoutMessageIsDescribedByItsClass() {
        StatusRuntimeException status = Errors.toStatus(new IllegalStateException());
        assertEquals(Status.Code.UNKNOWN, status.getStatus().getCode());
        assertEquals("java.lang.IllegalStateException", status.getStatus().getDescription());
    }

    @Test
    void wrappedErrorsKeepTheirClass() {
        var cause = new NotFoundException("content sha256:ab: not found");
        StatusRuntimeException status = Errors.toStatus(new CompletionException(new UncheckedIOException(new IOException(cause))));
        assertEquals(Status.Code.NOT_FOUND, status.getStatus().getCode());
        assertEquals("content sha256:ab: not found", status.getStatus().getDescription());
    }

    @Test
    void statusErrorsPassThrough() {
        StatusRuntimeException original = Status.RESOURCE_EXHAUSTED.withDescription("too big").asRuntimeException();
        assertSame(original, Errors.toStatus(original));

        Metadata trailers = new Metadata();
        StatusRuntimeException converted = Errors.toStatus(new StatusException(Status.ABORTED.withDescription("conflict"), trailers));
        assertEquals(Status.Code.ABORTED, converted.getStatus().getCode());
        assertEquals("conflict", converted.getStatus().getDescription());
        assertSame(trailers, converted.getTrailers());
    }
}
