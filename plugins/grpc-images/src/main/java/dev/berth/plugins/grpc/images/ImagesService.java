package dev.berth.plugins.grpc.images;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Empty;
import dev.berth.api.Calls;
import dev.berth.api.Headers;
import dev.berth.api.NonBlockingService;
import dev.berth.api.Timestamps;
import dev.berth.api.filters.Adaptor;
import dev.berth.api.filters.Filter;
import dev.berth.api.services.images.v1.CreateImageRequest;
import dev.berth.api.services.images.v1.CreateImageResponse;
import dev.berth.api.services.images.v1.DeleteImageRequest;
import dev.berth.api.services.images.v1.GetImageRequest;
import dev.berth.api.services.images.v1.GetImageResponse;
import dev.berth.api.services.images.v1.ImagesGrpc;
import dev.berth.api.services.images.v1.ListImagesRequest;
import dev.berth.api.services.images.v1.ListImagesResponse;
import dev.berth.api.services.images.v1.UpdateImageRequest;
import dev.berth.api.services.images.v1.UpdateImageResponse;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.content.Descriptor;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Publisher;
import dev.berth.plugin.metadata.Image;
import dev.berth.plugin.metadata.ImageStore;
import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code containerd.services.images.v1.Images} over the metadata store's images, in the namespace
 * of the {@code containerd-namespace} header; creates, updates and deletes are published under
 * containerd's topics. Get and List only read the memory-mapped metadata, so they run on the
 * transport's thread; writes commit to disk and run on request threads.
 */
final class ImagesService implements ImagesGrpc.AsyncService, BindableService, NonBlockingService {
    private static final Set<String> NON_BLOCKING = Set.of(
            ImagesGrpc.getGetMethod().getFullMethodName(),
            ImagesGrpc.getListMethod().getFullMethodName());

    private final ImageStore images;
    private final Publisher publisher;

    ImagesService(ImageStore images, Publisher publisher) {
        this.images = requireNonNull(images, "images is null");
        this.publisher = requireNonNull(publisher, "publisher is null");
    }

    @Override
    public ServerServiceDefinition bindService() {
        return ServerInterceptors.intercept(ImagesGrpc.bindService(this), Headers.INSTANCE);
    }

    @Override
    public Set<String> nonBlockingMethods() {
        return NON_BLOCKING;
    }

    @Override
    public void get(GetImageRequest request, StreamObserver<GetImageResponse> observer) {
        Calls.reply(observer, () -> GetImageResponse.newBuilder()
                .setImage(toProto(images.get(Headers.namespace(), request.getName()))).build());
    }

    /**
     * The images matching any of the filters: {@code name}, {@code target.digest},
     * {@code target.mediatype}, {@code labels.<key>} and {@code annotations.<key>} (of the target),
     * as containerd's image adaptor.
     */
    @Override
    public void list(ListImagesRequest request, StreamObserver<ListImagesResponse> observer) {
        Calls.reply(observer, () -> {
            Filter filter = Filter.parseAll(request.getFiltersList());
            List<Image> matching = images.list(Headers.namespace(), image -> filter.matches(adaptor(image)));
            return ListImagesResponse.newBuilder().addAllImages(matching.stream().map(ImagesService::toProto).toList())
                    .build();
        });
    }

    @Override
    public void create(CreateImageRequest request, StreamObserver<CreateImageResponse> observer) {
        Calls.reply(observer, () -> {
            String namespace = Headers.namespace();
            var image = request.getImage();
            if (image.getName().isEmpty()) {
                throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "Image.Name required");
            }
            Image created = images.create(namespace, new Image(image.getName(), image.getLabelsMap(),
                    target(image.getTarget()), Instant.EPOCH, Instant.EPOCH));
            publisher.publish(namespace, EventTypes.IMAGE_CREATE, new Event.ImageCreate(created.name(), created.labels()));
            return CreateImageResponse.newBuilder().setImage(toProto(created)).build();
        });
    }

    /**
     * Updates the fields the mask names ({@code labels}, {@code labels.<key>}, {@code target},
     * {@code annotations}, {@code annotations.<key>}), or labels and target when it names none.
     */
    @Override
    public void update(UpdateImageRequest request, StreamObserver<UpdateImageResponse> observer) {
        Calls.reply(observer, () -> {
            String namespace = Headers.namespace();
            var image = request.getImage();
            if (image.getName().isEmpty()) {
                throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "Image.Name required");
            }
            List<String> paths = request.getUpdateMask().getPathsList();
            Image updated = images.update(namespace, new Image(image.getName(), image.getLabelsMap(),
                    updateTarget(namespace, image, paths), Instant.EPOCH, Instant.EPOCH), paths);
            publisher.publish(namespace, EventTypes.IMAGE_UPDATE, new Event.ImageUpdate(updated.name(), updated.labels()));
            return UpdateImageResponse.newBuilder().setImage(toProto(updated)).build();
        });
    }

    @Override
    public void delete(DeleteImageRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            String namespace = Headers.namespace();
            images.delete(namespace, request.getName(), request.getSync());
            publisher.publish(namespace, EventTypes.IMAGE_DELETE, new Event.ImageDelete(request.getName()));
            return Empty.getDefaultInstance();
        });
    }

    /**
     * The target to pass with an update. Clients that change only labels or annotations (as
     * {@code ctr images label} does) send no target; unless the target is replaced, the stored one
     * with the sent annotations stands in for it, since the store reads only what the paths name.
     */
    private Descriptor updateTarget(String namespace, dev.berth.api.services.images.v1.Image image, List<String> paths) {
        if (paths.isEmpty() || paths.contains("target")) {
            return target(image.getTarget());
        }
        Descriptor stored = images.get(namespace, image.getName()).target();
        return new Descriptor(stored.mediaType(), stored.digest(), stored.size(), image.getTarget().getAnnotationsMap());
    }

    /** An image's target, validated as containerd's {@code validateTarget}. */
    private static Descriptor target(dev.berth.api.types.Descriptor target) {
        Descriptor descriptor = Protos.descriptor(target, "Target");
        if (descriptor.size() <= 0) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "Target.Size must be greater than zero");
        }
        if (descriptor.mediaType().isEmpty()) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "Target.MediaType must be set");
        }
        return descriptor;
    }

    static dev.berth.api.services.images.v1.Image toProto(Image image) {
        return dev.berth.api.services.images.v1.Image.newBuilder()
                .setName(image.name())
                .putAllLabels(image.labels())
                .setTarget(Protos.toProto(image.target()))
                .setCreatedAt(Timestamps.timestamp(image.createdAt()))
                .setUpdatedAt(Timestamps.timestamp(image.updatedAt()))
                .build();
    }

    private static Adaptor adaptor(Image image) {
        return path -> switch (path.getFirst()) {
            case "name" -> Adaptor.nonEmpty(image.name());
            case "target" -> path.size() < 2 ? Optional.empty() : switch (path.get(1)) {
                case "digest" -> Optional.of(image.target().digest().toString());
                case "mediatype" -> Adaptor.nonEmpty(image.target().mediaType());
                default -> Optional.empty();
            };
            case "labels" -> Protos.labels(image.labels(), path.subList(1, path.size()));
            case "annotations" -> Protos.labels(image.target().annotations(), path.subList(1, path.size()));
            default -> Optional.empty();
        };
    }
}
