package dev.berth.plugins.grpc.storage;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Empty;
import dev.berth.api.Calls;
import dev.berth.api.Headers;
import dev.berth.api.Timestamps;
import dev.berth.api.filters.Adaptor;
import dev.berth.api.filters.Filter;
import dev.berth.api.services.leases.v1.AddResourceRequest;
import dev.berth.api.services.leases.v1.CreateRequest;
import dev.berth.api.services.leases.v1.CreateResponse;
import dev.berth.api.services.leases.v1.DeleteRequest;
import dev.berth.api.services.leases.v1.DeleteResourceRequest;
import dev.berth.api.services.leases.v1.LeasesGrpc;
import dev.berth.api.services.leases.v1.ListRequest;
import dev.berth.api.services.leases.v1.ListResourcesRequest;
import dev.berth.api.services.leases.v1.ListResourcesResponse;
import dev.berth.api.services.leases.v1.ListResponse;
import dev.berth.plugin.metadata.Lease;
import dev.berth.plugin.metadata.LeaseManager;
import dev.berth.plugin.metadata.Resource;
import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;

/** {@code containerd.services.leases.v1.Leases}: the leases of the caller's namespace and the resources they hold. */
final class LeasesService implements LeasesGrpc.AsyncService, BindableService {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final LeaseManager leases;

    LeasesService(LeaseManager leases) {
        this.leases = requireNonNull(leases, "leases is null");
    }

    @Override
    public ServerServiceDefinition bindService() {
        return ServerInterceptors.intercept(LeasesGrpc.bindService(this), Headers.INSTANCE);
    }

    @Override
    public void create(CreateRequest request, StreamObserver<CreateResponse> observer) {
        Calls.reply(observer, () -> {
            String id = request.getId().isEmpty() ? randomId() : request.getId();
            return CreateResponse.newBuilder()
                    .setLease(toProto(leases.create(Headers.namespace(), id, request.getLabelsMap())))
                    .build();
        });
    }

    /** An id for a lease the client did not name, in the form of containerd's {@code leases.WithRandomID}. */
    private static String randomId() {
        byte[] random = new byte[3];
        RANDOM.nextBytes(random);
        return Instant.now().getNano() + "-" + Base64.getUrlEncoder().encodeToString(random);
    }

    @Override
    public void delete(DeleteRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            leases.delete(Headers.namespace(), request.getId(), request.getSync());
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void list(ListRequest request, StreamObserver<ListResponse> observer) {
        Calls.reply(observer, () -> {
            String namespace = Headers.namespace();
            Filter filter = Filter.parseAll(request.getFiltersList());
            ListResponse.Builder response = ListResponse.newBuilder();
            leases.list(namespace, lease -> filter.matches(adaptor(lease)))
                    .forEach(lease -> response.addLeases(toProto(lease)));
            return response.build();
        });
    }

    @Override
    public void addResource(AddResourceRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            leases.addResource(Headers.namespace(), request.getId(), resource(request.getResource()));
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void deleteResource(DeleteResourceRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            leases.deleteResource(Headers.namespace(), request.getId(), resource(request.getResource()));
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void listResources(ListResourcesRequest request, StreamObserver<ListResourcesResponse> observer) {
        Calls.reply(observer, () -> {
            ListResourcesResponse.Builder response = ListResourcesResponse.newBuilder();
            for (Resource resource : leases.listResources(Headers.namespace(), request.getId())) {
                response.addResources(dev.berth.api.services.leases.v1.Resource.newBuilder()
                        .setId(resource.id()).setType(resource.type()));
            }
            return response.build();
        });
    }

    /** containerd filters leases on {@code id} and {@code labels.<key>}. */
    private static Adaptor adaptor(Lease lease) {
        return path -> switch (path.getFirst()) {
            case "id" -> Adaptor.nonEmpty(lease.id());
            case "labels" -> Protos.labels(lease.labels(), path.subList(1, path.size()));
            default -> Optional.empty();
        };
    }

    private static Resource resource(dev.berth.api.services.leases.v1.Resource resource) {
        return new Resource(resource.getId(), resource.getType());
    }

    private static dev.berth.api.services.leases.v1.Lease toProto(Lease lease) {
        return dev.berth.api.services.leases.v1.Lease.newBuilder()
                .setId(lease.id())
                .setCreatedAt(Timestamps.timestamp(lease.createdAt()))
                .putAllLabels(lease.labels())
                .build();
    }
}
