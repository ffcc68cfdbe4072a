package dev.berth.plugins.grpc.storage;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Empty;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.berth.api.Calls;
import dev.berth.api.Errors;
import dev.berth.api.Headers;
import dev.berth.api.Timestamps;
import dev.berth.api.events.ContainerEventsProto;
import dev.berth.api.events.ContentDelete;
import dev.berth.api.events.ContentEventsProto;
import dev.berth.api.events.ImageCreate;
import dev.berth.api.events.ImageDelete;
import dev.berth.api.events.ImageEventsProto;
import dev.berth.api.events.ImageUpdate;
import dev.berth.api.events.NamespaceCreate;
import dev.berth.api.events.NamespaceDelete;
import dev.berth.api.events.NamespaceEventsProto;
import dev.berth.api.events.NamespaceUpdate;
import dev.berth.api.events.SnapshotCommit;
import dev.berth.api.events.SnapshotEventsProto;
import dev.berth.api.events.SnapshotPrepare;
import dev.berth.api.events.SnapshotRemove;
import dev.berth.api.events.TaskEventsProto;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code containerd.services.events.v1.Events} over the event exchange. Events go on the wire as
 * containerd sends them: the payload in a {@code google.protobuf.Any} whose type URL is the
 * payload's full proto name ({@code containerd.events.NamespaceCreate}, …), which is what
 * containerd's {@code typeurl} falls back to for its unregistered event types.
 */
final class EventsService implements EventsGrpc.AsyncService, BindableService {
    /** containerd's event payloads by full name (the type URL's last segment), for their fields. */
    private static final Map<String, Descriptor> EVENT_TYPES = Stream.of(ContainerEventsProto.getDescriptor(),
                    ContentEventsProto.getDescriptor(), ImageEventsProto.getDescriptor(),
                    NamespaceEventsProto.getDescriptor(), SnapshotEventsProto.getDescriptor(), TaskEventsProto.getDescriptor())
            .flatMap(file -> file.getMessageTypes().stream())
            .collect(Collectors.toUnmodifiableMap(Descriptor::getFullName, type -> type));

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
        if (event instanceof Event.Opaque encoded) {
            return Any.newBuilder().setTypeUrl(encoded.typeUrl()).setValue(ByteString.copyFrom(encoded.value())).build();
        }
        return pack(payload(event));
    }

    /** The protobuf payload containerd sends for one of the daemon's own events. */
    private static Message payload(Event event) {
        return switch (event) {
            case Event.NamespaceCreate e -> NamespaceCreate.newBuilder().setName(e.name()).putAllLabels(e.labels()).build();
            case Event.NamespaceUpdate e -> NamespaceUpdate.newBuilder().setName(e.name()).putAllLabels(e.labels()).build();
            case Event.NamespaceDelete e -> NamespaceDelete.newBuilder().setName(e.name()).build();
            case Event.ContentDelete e -> ContentDelete.newBuilder().setDigest(e.digest().toString()).build();
            case Event.ImageCreate e -> ImageCreate.newBuilder().setName(e.name()).putAllLabels(e.labels()).build();
            case Event.ImageUpdate e -> ImageUpdate.newBuilder().setName(e.name()).putAllLabels(e.labels()).build();
            case Event.ImageDelete e -> ImageDelete.newBuilder().setName(e.name()).build();
            case Event.SnapshotPrepare e -> SnapshotPrepare.newBuilder().setKey(e.key()).setParent(e.parent()).build();
            case Event.SnapshotCommit e -> SnapshotCommit.newBuilder().setKey(e.key()).setName(e.name()).build();
            case Event.SnapshotRemove e -> SnapshotRemove.newBuilder().setKey(e.key()).build();
            case Event.Opaque e -> throw new IllegalArgumentException("already encoded: " + e);
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
     * containerd's envelope fields: {@code namespace}, {@code topic}, and {@code event.<field>}, the
     * fields of the payload as containerd's generated adaptors read them (see {@link #messageField}).
     */
    private static Adaptor adaptor(Envelope envelope) {
        return path -> switch (path.getFirst()) {
            case "namespace" -> Adaptor.nonEmpty(envelope.namespace());
            case "topic" -> Adaptor.nonEmpty(envelope.topic());
            case "event" -> path.size() < 2 ? Optional.empty() : eventField(envelope.event(), path.subList(1, path.size()));
            default -> Optional.empty();
        };
    }

    /**
     * A field of the event's payload. Payloads passed on encoded (container and task events, and what
     * clients publish) are decoded if they are of one of containerd's event types; others have no fields.
     */
    private static Optional<String> eventField(Event event, List<String> path) {
        if (!(event instanceof Event.Opaque encoded)) {
            return messageField(payload(event), path);
        }
        String typeUrl = encoded.typeUrl();
        Descriptor type = EVENT_TYPES.get(typeUrl.substring(typeUrl.lastIndexOf('/') + 1));
        if (type == null) {
            return Optional.empty();
        }
        try {
            return messageField(DynamicMessage.parseFrom(type, encoded.value()), path);
        } catch (InvalidProtocolBufferException e) {
            return Optional.empty();
        }
    }

    /**
     * A field as containerd's generated field adaptors read it: a non-empty string field by its
     * protobuf name, {@code labels.<key>}, and the fields of a nested message (as {@code runtime.name}
     * of {@code containerd.events.ContainerCreate}); nothing for numbers, times, lists and {@code Any}
     * values.
     */
    private static Optional<String> messageField(Message message, List<String> path) {
        if (path.isEmpty()) {
            return Optional.empty();
        }
        FieldDescriptor field = message.getDescriptorForType().findFieldByName(path.getFirst());
        if (field == null) {
            return Optional.empty();
        }
        List<String> rest = path.subList(1, path.size());
        if (field.isMapField()) {
            if (!field.getName().equals("labels")) {
                return Optional.empty();
            }
            Map<String, String> labels = new HashMap<>();
            for (Object entry : (List<?>) message.getField(field)) {
                Message pair = (Message) entry;
                Descriptor pairType = pair.getDescriptorForType();
                labels.put(String.valueOf(pair.getField(pairType.findFieldByName("key"))),
                        String.valueOf(pair.getField(pairType.findFieldByName("value"))));
            }
            return Protos.labels(labels, rest);
        }
        if (field.isRepeated()) {
            return Optional.empty();
        }
        return switch (field.getJavaType()) {
            case STRING -> Adaptor.nonEmpty((String) message.getField(field));
            case MESSAGE -> field.getMessageType().getFullName().equals(Any.getDescriptor().getFullName())
                    || !message.hasField(field)
                    ? Optional.empty()
                    : messageField((Message) message.getField(field), rest);
            default -> Optional.empty();
        };
    }
}
