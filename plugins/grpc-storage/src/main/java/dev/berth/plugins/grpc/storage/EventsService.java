package dev.berth.plugins.grpc.storage;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import dev.berth.api.Calls;
import dev.berth.api.Errors;
import dev.berth.api.Headers;
import dev.berth.api.Timestamps;
import dev.berth.api.events.ContentDelete;
import dev.berth.api.events.ImageCreate;
import dev.berth.api.events.ImageDelete;
import dev.berth.api.events.ImageUpdate;
import dev.berth.api.events.NamespaceCreate;
import dev.berth.api.events.NamespaceDelete;
import dev.berth.api.events.NamespaceUpdate;
import dev.berth.api.events.SnapshotCommit;
import dev.berth.api.events.SnapshotPrepare;
import dev.berth.api.events.SnapshotRemove;
import dev.berth.api.filters.Adaptor;
import dev.berth.api.filters.Filter;
import dev.berth.api.services.events.v1.EventsGrpc;
import dev.berth.api.services.events.v1.ForwardRequest;
import dev.berth.api.services.events.v1.PublishRequest;
import dev.berth.api.services.events.v1.SubscribeRequest;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.UnavailableException;
import dev.berth.plugin.events.Envelope;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.Exchange;
import dev.berth.plugin.events.Subscription;
import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code containerd.services.events.v1.Events} over the event exchange. Events go on the wire as
 * containerd sends them: the payload in a {@code google.protobuf.Any} whose type URL is the
 * payload's full proto name ({@code containerd.events.NamespaceCreate}, …), which is what
 * containerd's {@code typeurl} falls back to for its unregistered event types.
 */
final class EventsService implements EventsGrpc.AsyncService, BindableService {
    private final Exchange exchange;

    EventsService(Exchange exchange) {
        this.exchange = requireNonNull(exchange, "exchange is null");
    }

    @Override
    public ServerServiceDefinition bindService() {
        return ServerInterceptors.intercept(EventsGrpc.bindService(this), Headers.INSTANCE);
    }

    @Override
    public void publish(PublishRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            exchange.publish(Headers.namespace(), request.getTopic(), fromAny(request.getEvent()));
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void forward(ForwardRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            dev.berth.api.services.events.v1.Envelope envelope = request.getEnvelope();
            if (!envelope.hasTimestamp()) {
                throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "timestamp must be set on forwarded event");
            }
            exchange.forward(new Envelope(Timestamps.instant(envelope.getTimestamp()), envelope.getNamespace(),
                    envelope.getTopic(), fromAny(envelope.getEvent())));
            return Empty.getDefaultInstance();
        });
    }

    /**
     * Streams every event published from now on that matches any of the filters, from every
     * namespace unless a filter says {@code namespace==…}, as containerd. The stream is fed by a
     * thread of its own, which ends when the client cancels.
     */
    @Override
    public void subscribe(SubscribeRequest request, StreamObserver<dev.berth.api.services.events.v1.Envelope> observer) {
        Subscription subscription;
        try {
            Filter filter = Filter.parseAll(request.getFiltersList());
            subscription = exchange.subscribe(envelope -> filter.matches(adaptor(envelope)));
        } catch (RuntimeException e) {
            observer.onError(Errors.toStatus(e));
            return;
        }
        ServerCallStreamObserver<dev.berth.api.services.events.v1.Envelope> stream =
                (ServerCallStreamObserver<dev.berth.api.services.events.v1.Envelope>) observer;
        stream.setOnCancelHandler(subscription::close);
        Thread.ofVirtual().name("events-subscriber").start(() -> feed(subscription, stream));
    }

    private static void feed(Subscription subscription,
            ServerCallStreamObserver<dev.berth.api.services.events.v1.Envelope> stream) {
        try (subscription) {
            while (true) {
                Envelope envelope = subscription.take();
                if (stream.isCancelled()) {
                    return;
                }
                stream.onNext(toProto(envelope));
            }
        } catch (UnavailableException e) {
            // closed: by the client leaving (nothing to tell) or by the exchange (tell the client)
            if (!stream.isCancelled()) {
                stream.onError(Errors.toStatus(e));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (!stream.isCancelled()) {
                stream.onError(Errors.toStatus(e));
            }
        }
    }

    static dev.berth.api.services.events.v1.Envelope toProto(Envelope envelope) {
        return dev.berth.api.services.events.v1.Envelope.newBuilder()
                .setTimestamp(Timestamps.timestamp(envelope.timestamp()))
                .setNamespace(envelope.namespace())
                .setTopic(envelope.topic())
                .setEvent(toAny(envelope.event()))
                .build();
    }

    static Any toAny(Event event) {
        return switch (event) {
            case Event.NamespaceCreate e -> pack(NamespaceCreate.newBuilder().setName(e.name()).putAllLabels(e.labels()).build());
            case Event.NamespaceUpdate e -> pack(NamespaceUpdate.newBuilder().setName(e.name()).putAllLabels(e.labels()).build());
            case Event.NamespaceDelete e -> pack(NamespaceDelete.newBuilder().setName(e.name()).build());
            case Event.ContentDelete e -> pack(ContentDelete.newBuilder().setDigest(e.digest().toString()).build());
            case Event.ImageCreate e -> pack(ImageCreate.newBuilder().setName(e.name()).putAllLabels(e.labels()).build());
            case Event.ImageUpdate e -> pack(ImageUpdate.newBuilder().setName(e.name()).putAllLabels(e.labels()).build());
            case Event.ImageDelete e -> pack(ImageDelete.newBuilder().setName(e.name()).build());
            case Event.SnapshotPrepare e -> pack(SnapshotPrepare.newBuilder().setKey(e.key()).setParent(e.parent()).build());
            case Event.SnapshotCommit e -> pack(SnapshotCommit.newBuilder().setKey(e.key()).setName(e.name()).build());
            case Event.SnapshotRemove e -> pack(SnapshotRemove.newBuilder().setKey(e.key()).build());
            case Event.Opaque e -> Any.newBuilder().setTypeUrl(e.typeUrl()).setValue(ByteString.copyFrom(e.value())).build();
        };
    }

    private static Any pack(Message payload) {
        return Any.newBuilder()
                .setTypeUrl(payload.getDescriptorForType().getFullName())
                .setValue(payload.toByteString())
                .build();
    }

    /** Events from clients are passed on as they came; the daemon does not interpret them. */
    private static Event fromAny(Any any) {
        return new Event.Opaque(any.getTypeUrl(), any.getValue().toByteArray());
    }

    /**
     * containerd's envelope fields: {@code namespace}, {@code topic}, and {@code event.<field>} for
     * the fields of the payloads it knows ({@code name}, {@code labels.<key>}, {@code digest},
     * {@code key}, {@code parent}).
     */
    private static Adaptor adaptor(Envelope envelope) {
        return path -> switch (path.getFirst()) {
            case "namespace" -> Adaptor.nonEmpty(envelope.namespace());
            case "topic" -> Adaptor.nonEmpty(envelope.topic());
            case "event" -> path.size() < 2 ? Optional.empty() : eventField(envelope.event(), path.subList(1, path.size()));
            default -> Optional.empty();
        };
    }

    private static Optional<String> eventField(Event event, List<String> path) {
        record Fields(String name, Map<String, String> labels, String digest, String key, String parent) {
            Fields(String name, Map<String, String> labels) {
                this(name, labels, "", "", "");
            }
        }
        Fields fields = switch (event) {
            case Event.NamespaceCreate e -> new Fields(e.name(), e.labels());
            case Event.NamespaceUpdate e -> new Fields(e.name(), e.labels());
            case Event.NamespaceDelete e -> new Fields(e.name(), Map.of());
            case Event.ContentDelete e -> new Fields("", Map.of(), e.digest().toString(), "", "");
            case Event.ImageCreate e -> new Fields(e.name(), e.labels());
            case Event.ImageUpdate e -> new Fields(e.name(), e.labels());
            case Event.ImageDelete e -> new Fields(e.name(), Map.of());
            case Event.SnapshotPrepare e -> new Fields("", Map.of(), "", e.key(), e.parent());
            case Event.SnapshotCommit e -> new Fields(e.name(), Map.of(), "", e.key(), "");
            case Event.SnapshotRemove e -> new Fields("", Map.of(), "", e.key(), "");
            case Event.Opaque e -> new Fields("", Map.of());
        };
        return switch (path.getFirst()) {
            case "name" -> Adaptor.nonEmpty(fields.name());
            case "labels" -> Protos.labels(fields.labels(), path.subList(1, path.size()));
            case "digest" -> Adaptor.nonEmpty(fields.digest());
            case "key" -> Adaptor.nonEmpty(fields.key());
            case "parent" -> Adaptor.nonEmpty(fields.parent());
            default -> Optional.empty();
        };
    }
}
