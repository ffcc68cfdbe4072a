package dev.berth.plugins.grpc.runtime;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.berth.api.Calls;
import dev.berth.api.Errors;
import dev.berth.api.Headers;
import dev.berth.api.NonBlockingService;
import dev.berth.api.Timestamps;
import dev.berth.api.events.ContainerCreate;
import dev.berth.api.events.ContainerDelete;
import dev.berth.api.events.ContainerUpdate;
import dev.berth.api.filters.Adaptor;
import dev.berth.api.filters.Filter;
import dev.berth.api.services.containers.v1.ContainersGrpc;
import dev.berth.api.services.containers.v1.CreateContainerRequest;
import dev.berth.api.services.containers.v1.CreateContainerResponse;
import dev.berth.api.services.containers.v1.DeleteContainerRequest;
import dev.berth.api.services.containers.v1.GetContainerRequest;
import dev.berth.api.services.containers.v1.GetContainerResponse;
import dev.berth.api.services.containers.v1.ListContainerMessage;
import dev.berth.api.services.containers.v1.ListContainersRequest;
import dev.berth.api.services.containers.v1.ListContainersResponse;
import dev.berth.api.services.containers.v1.UpdateContainerRequest;
import dev.berth.api.services.containers.v1.UpdateContainerResponse;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.Publisher;
import dev.berth.plugin.metadata.Container;
import dev.berth.plugin.metadata.ContainerStore;
import dev.berth.plugin.runtime.TypedValue;
import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code containerd.services.containers.v1.Containers} over the metadata store's containers, in
 * the namespace of the {@code containerd-namespace} header; creates, updates and deletes are
 * published under containerd's topics with containerd's payloads. Reads only read the memory-mapped
 * metadata, so they run on the transport's thread; writes commit to disk and run on request threads.
 */
final class ContainersService implements ContainersGrpc.AsyncService, BindableService, NonBlockingService {
    static final String CONTAINER_CREATE = "/containers/create";
    static final String CONTAINER_UPDATE = "/containers/update";
    static final String CONTAINER_DELETE = "/containers/delete";
    private static final Set<String> NON_BLOCKING = Set.of(
            ContainersGrpc.getGetMethod().getFullMethodName(),
            ContainersGrpc.getListMethod().getFullMethodName(),
            ContainersGrpc.getListStreamMethod().getFullMethodName());

    private final ContainerStore containers;
    private final Publisher publisher;

    ContainersService(ContainerStore containers, Publisher publisher) {
        this.containers = requireNonNull(containers, "containers is null");
        this.publisher = requireNonNull(publisher, "publisher is null");
    }

    @Override
    public ServerServiceDefinition bindService() {
        return ServerInterceptors.intercept(ContainersGrpc.bindService(this), Headers.INSTANCE);
    }

    @Override
    public Set<String> nonBlockingMethods() {
        return NON_BLOCKING;
    }

    @Override
    public void get(GetContainerRequest request, StreamObserver<GetContainerResponse> observer) {
        Calls.reply(observer, () -> GetContainerResponse.newBuilder()
                .setContainer(toProto(containers.get(Headers.namespace(), request.getId()))).build());
    }

    /**
     * The containers matching any of the filters: {@code id}, {@code image}, {@code runtime.name}
     * and {@code labels.<key>}, as containerd's container adaptor.
     */
    @Override
    public void list(ListContainersRequest request, StreamObserver<ListContainersResponse> observer) {
        Calls.reply(observer, () -> ListContainersResponse.newBuilder()
                .addAllContainers(matching(request).stream().map(ContainersService::toProto).toList()).build());
    }

    /** As {@link #list}, one container per message, so that no message outgrows the transport's limit. */
    @Override
    public void listStream(ListContainersRequest request, StreamObserver<ListContainerMessage> observer) {
        List<Container> found;
        try {
            found = matching(request);
        } catch (RuntimeException e) {
            observer.onError(Errors.toStatus(e));
            return;
        }
        for (Container container : found) {
            observer.onNext(ListContainerMessage.newBuilder().setContainer(toProto(container)).build());
        }
        observer.onCompleted();
    }

    private List<Container> matching(ListContainersRequest request) {
        Filter filter = Filter.parseAll(request.getFiltersList());
        return containers.list(Headers.namespace(), container -> filter.matches(adaptor(container)));
    }

    @Override
    public void create(CreateContainerRequest request, StreamObserver<CreateContainerResponse> observer) {
        Calls.reply(observer, () -> {
            String namespace = Headers.namespace();
            Container created = containers.create(namespace, fromProto(request.getContainer()));
            ContainerCreate.Runtime.Builder runtime = ContainerCreate.Runtime.newBuilder()
                    .setName(created.runtime().name());
            created.runtime().options().ifPresent(options -> runtime.setOptions(toAny(options)));
            publish(namespace, CONTAINER_CREATE, ContainerCreate.newBuilder().setId(created.id())
                    .setImage(created.image()).setRuntime(runtime).build());
            return CreateContainerResponse.newBuilder().setContainer(toProto(created)).build();
        });
    }

    /**
     * Updates the fields the mask names ({@code labels}, {@code labels.<key>}, {@code spec},
     * {@code extensions}, {@code extensions.<key>}, {@code image}, {@code snapshotkey}), or all of
     * them when it names none.
     */
    @Override
    public void update(UpdateContainerRequest request, StreamObserver<UpdateContainerResponse> observer) {
        Calls.reply(observer, () -> {
            if (request.getContainer().getId().isEmpty()) {
                throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "Container.ID required");
            }
            String namespace = Headers.namespace();
            Container updated = containers.update(namespace, fromProto(request.getContainer()),
                    request.getUpdateMask().getPathsList());
            publish(namespace, CONTAINER_UPDATE, ContainerUpdate.newBuilder().setId(updated.id())
                    .setImage(updated.image()).putAllLabels(updated.labels()).setSnapshotKey(updated.snapshotKey())
                    .build());
            return UpdateContainerResponse.newBuilder().setContainer(toProto(updated)).build();
        });
    }

    @Override
    public void delete(DeleteContainerRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            String namespace = Headers.namespace();
            containers.delete(namespace, request.getId());
            publish(namespace, CONTAINER_DELETE, ContainerDelete.newBuilder().setId(request.getId()).build());
            return Empty.getDefaultInstance();
        });
    }

    /** The exchange carries protobuf payloads of components outside plugin-api's event set as they are. */
    private void publish(String namespace, String topic, com.google.protobuf.Message payload) {
        publisher.publish(namespace, topic, new Event.Opaque(payload.getDescriptorForType().getFullName(),
                payload.toByteArray()));
    }

    private static Container fromProto(dev.berth.api.services.containers.v1.Container container) {
        Map<String, TypedValue> extensions = new TreeMap<>();
        container.getExtensionsMap().forEach((key, value) -> extensions.put(key, typed(value)));
        var runtime = container.getRuntime();
        return new Container(container.getId(), container.getLabelsMap(), container.getImage(),
                new Container.Runtime(runtime.getName(),
                        runtime.hasOptions() ? Optional.of(typed(runtime.getOptions())) : Optional.empty()),
                container.hasSpec() ? Optional.of(typed(container.getSpec())) : Optional.empty(),
                container.getSnapshotKey(), container.getSnapshotter(), extensions, Instant.EPOCH, Instant.EPOCH);
    }

    static dev.berth.api.services.containers.v1.Container toProto(Container container) {
        var runtime = dev.berth.api.services.containers.v1.Container.Runtime.newBuilder()
                .setName(container.runtime().name());
        container.runtime().options().ifPresent(options -> runtime.setOptions(toAny(options)));
        var builder = dev.berth.api.services.containers.v1.Container.newBuilder()
                .setId(container.id())
                .putAllLabels(container.labels())
                .setImage(container.image())
                .setRuntime(runtime)
                .setSnapshotter(container.snapshotter())
                .setSnapshotKey(container.snapshotKey())
                .setCreatedAt(Timestamps.timestamp(container.createdAt()))
                .setUpdatedAt(Timestamps.timestamp(container.updatedAt()));
        container.spec().ifPresent(spec -> builder.setSpec(toAny(spec)));
        container.extensions().forEach((key, value) -> builder.putExtensions(key, toAny(value)));
        return builder.build();
    }

    static TypedValue typed(Any any) {
        return new TypedValue(any.getTypeUrl(), any.getValue().toByteArray());
    }

    static Any toAny(TypedValue value) {
        return Any.newBuilder().setTypeUrl(value.typeUrl()).setValue(ByteString.copyFrom(value.value())).build();
    }

    private static Adaptor adaptor(Container container) {
        return path -> switch (path.getFirst()) {
            case "id" -> Adaptor.nonEmpty(container.id());
            case "image" -> Adaptor.nonEmpty(container.image());
            case "runtime" -> path.size() == 2 && path.get(1).equals("name")
                    ? Adaptor.nonEmpty(container.runtime().name()) : Optional.empty();
            // an empty map has no fields at all, as containerd's checkMap
            case "labels" -> container.labels().isEmpty() ? Optional.empty()
                    : Adaptor.mapEntry(container.labels(), path.subList(1, path.size()));
            default -> Optional.empty();
        };
    }
}
