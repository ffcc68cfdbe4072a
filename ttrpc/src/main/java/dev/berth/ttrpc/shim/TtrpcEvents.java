package dev.berth.ttrpc.shim;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Empty;
import dev.berth.api.services.ttrpc.events.v1.Envelope;
import dev.berth.api.services.ttrpc.events.v1.ForwardRequest;
import dev.berth.ttrpc.TtrpcServer;
import java.util.function.Consumer;

/**
 * containerd's ttrpc events service ({@code containerd.services.events.ttrpc.v1.Events}), the endpoint at
 * {@code TTRPC_ADDRESS} to which shims forward their task events.
 */
public final class TtrpcEvents {

    /** The ttrpc service name shims call. */
    public static final String SERVICE = "containerd.services.events.ttrpc.v1.Events";

    private TtrpcEvents() {}

    /**
     * Serves {@code Forward} on {@code server}, handing each envelope (namespace, topic, timestamp and the event
     * as an Any whose type URL has no {@code type.googleapis.com/} prefix, e.g. {@code containerd.events.TaskExit})
     * to {@code sink}. The shim retries a forward that fails, so {@code sink} should not throw for an event it
     * cannot use.
     */
    public static TtrpcServer register(TtrpcServer server, Consumer<Envelope> sink) {
        requireNonNull(sink, "sink is null");
        return server.register(SERVICE, "Forward", ForwardRequest.parser(), (request, context) -> {
            sink.accept(request.getEnvelope());
            return Empty.getDefaultInstance();
        });
    }
}
