package dev.berth.plugins.grpc.storage;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Empty;
import dev.berth.api.Calls;
import dev.berth.api.Headers;
import dev.berth.api.NonBlockingService;
import dev.berth.api.services.namespaces.v1.CreateNamespaceRequest;
import dev.berth.api.services.namespaces.v1.CreateNamespaceResponse;
import dev.berth.api.services.namespaces.v1.DeleteNamespaceRequest;
import dev.berth.api.services.namespaces.v1.GetNamespaceRequest;
import dev.berth.api.services.namespaces.v1.GetNamespaceResponse;
import dev.berth.api.services.namespaces.v1.ListNamespacesRequest;
import dev.berth.api.services.namespaces.v1.ListNamespacesResponse;
import dev.berth.api.services.namespaces.v1.Namespace;
import dev.berth.api.services.namespaces.v1.NamespacesGrpc;
import dev.berth.api.services.namespaces.v1.UpdateNamespaceRequest;
import dev.berth.api.services.namespaces.v1.UpdateNamespaceResponse;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Publisher;
import dev.berth.plugin.metadata.NamespaceStore;
import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import java.util.Set;

/**
 * {@code containerd.services.namespaces.v1.Namespaces}, as containerd's local service: it needs no
 * namespace header, and publishes {@code /namespaces/create}, {@code /namespaces/update} and
 * {@code /namespaces/delete}. Reads only read the memory-mapped metadata, so they run on the
 * transport's thread (every {@code ctr} command that names a namespace begins with a {@code Get}).
 */
final class NamespacesService implements NamespacesGrpc.AsyncService, BindableService, NonBlockingService {
    private static final Set<String> NON_BLOCKING = Set.of(
            NamespacesGrpc.getGetMethod().getFullMethodName(),
            NamespacesGrpc.getListMethod().getFullMethodName());

    private final NamespaceStore namespaces;
    private final Publisher publisher;

    NamespacesService(NamespaceStore namespaces, Publisher publisher) {
        this.namespaces = requireNonNull(namespaces, "namespaces is null");
        this.publisher = requireNonNull(publisher, "publisher is null");
    }

    @Override
    public ServerServiceDefinition bindService() {
        return ServerInterceptors.intercept(NamespacesGrpc.bindService(this), Headers.INSTANCE);
    }

    @Override
    public Set<String> nonBlockingMethods() {
        return NON_BLOCKING;
    }

    @Override
    public void get(GetNamespaceRequest request, StreamObserver<GetNamespaceResponse> observer) {
        Calls.reply(observer, () -> GetNamespaceResponse.newBuilder()
                .setNamespace(namespace(request.getName()))
                .build());
    }

    @Override
    public void list(ListNamespacesRequest request, StreamObserver<ListNamespacesResponse> observer) {
        // containerd ignores the request's filter too
        Calls.reply(observer, () -> {
            ListNamespacesResponse.Builder response = ListNamespacesResponse.newBuilder();
            for (String name : namespaces.list()) {
                response.addNamespaces(namespace(name));
            }
            return response.build();
        });
    }

    @Override
    public void create(CreateNamespaceRequest request, StreamObserver<CreateNamespaceResponse> observer) {
        Calls.reply(observer, () -> {
            Namespace namespace = request.getNamespace();
            namespaces.create(namespace.getName(), namespace.getLabelsMap());
            publisher.publish(eventNamespace(namespace.getName()), EventTypes.NAMESPACE_CREATE,
                    new Event.NamespaceCreate(namespace.getName(), namespace.getLabelsMap()));
            return CreateNamespaceResponse.newBuilder().setNamespace(namespace).build();
        });
    }

    @Override
    public void update(UpdateNamespaceRequest request, StreamObserver<UpdateNamespaceResponse> observer) {
        Calls.reply(observer, () -> {
            Namespace namespace = request.getNamespace();
            String name = namespace.getName();
            if (request.hasUpdateMask() && request.getUpdateMask().getPathsCount() > 0) {
                for (String path : request.getUpdateMask().getPathsList()) {
                    if (!path.startsWith("labels.")) {
                        throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "cannot update \"" + path + "\" field");
                    }
                    String key = path.substring("labels.".length());
                    namespaces.setLabel(name, key, namespace.getLabelsOrDefault(key, ""));
                }
            } else {
                // the request's labels replace all of them
                for (String key : namespaces.labels(name).keySet()) {
                    if (!namespace.containsLabels(key)) {
                        namespaces.setLabel(name, key, "");
                    }
                }
                namespace.getLabelsMap().forEach((key, value) -> namespaces.setLabel(name, key, value));
            }
            publisher.publish(eventNamespace(name), EventTypes.NAMESPACE_UPDATE,
                    new Event.NamespaceUpdate(name, namespace.getLabelsMap()));
            // containerd answers with an empty namespace
            return UpdateNamespaceResponse.getDefaultInstance();
        });
    }

    @Override
    public void delete(DeleteNamespaceRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            namespaces.delete(request.getName());
            publisher.publish(request.getName(), EventTypes.NAMESPACE_DELETE, new Event.NamespaceDelete(request.getName()));
            return Empty.getDefaultInstance();
        });
    }

    private Namespace namespace(String name) {
        return Namespace.newBuilder().setName(name).putAllLabels(namespaces.labels(name)).build();
    }

    /**
     * The namespace an event is published in: the caller's, as containerd does. containerd fails the
     * call after the change when the caller sent none; here the event goes to the namespace changed,
     * so that a committed change is never reported as failed.
     */
    private static String eventNamespace(String changed) {
        return Headers.optionalNamespace().orElse(changed);
    }
}
