package dev.berth.plugins.runtime.v2;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import dev.berth.api.runtime.task.v2.StateResponse;
import dev.berth.api.types.task.Status;
import dev.berth.plugin.mount.Mount;
import dev.berth.plugin.runtime.IO;
import dev.berth.plugin.runtime.ProcessState;
import dev.berth.plugin.runtime.TaskState;
import dev.berth.plugin.runtime.TypedValue;
import java.time.Instant;
import java.util.Optional;

/** Conversions between the shim's messages and the runtime contract's values. */
final class Protos {
    private Protos() {}

    static Any any(TypedValue value) {
        return Any.newBuilder().setTypeUrl(value.typeUrl()).setValue(ByteString.copyFrom(value.value())).build();
    }

    static TypedValue typed(Any any) {
        return new TypedValue(any.getTypeUrl(), any.getValue().toByteArray());
    }

    static dev.berth.api.types.Mount mount(Mount mount) {
        return dev.berth.api.types.Mount.newBuilder()
                .setType(mount.type())
                .setSource(mount.source())
                .addAllOptions(mount.options())
                .build();
    }

    static Instant instant(Timestamp timestamp) {
        return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
    }

    static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    static ProcessState state(StateResponse response) {
        TaskState status = switch (response.getStatus()) {
            case CREATED -> TaskState.CREATED;
            case RUNNING -> TaskState.RUNNING;
            case STOPPED -> TaskState.STOPPED;
            case PAUSED -> TaskState.PAUSED;
            case PAUSING -> TaskState.PAUSING;
            case UNKNOWN, UNRECOGNIZED -> TaskState.UNKNOWN;
        };
        Optional<Instant> exitedAt = response.hasExitedAt() && response.getStatus() == Status.STOPPED
                ? Optional.of(instant(response.getExitedAt()))
                : Optional.empty();
        return new ProcessState(status, response.getPid(), response.getExitStatus(), exitedAt,
                new IO(response.getStdin(), response.getStdout(), response.getStderr(), response.getTerminal()));
    }
}
