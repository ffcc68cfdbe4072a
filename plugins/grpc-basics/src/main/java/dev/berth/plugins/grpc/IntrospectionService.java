package dev.berth.plugins.grpc;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Empty;
import com.google.rpc.Code;
import com.google.rpc.Status;
import dev.berth.api.Errors;
import dev.berth.api.filters.Adaptor;
import dev.berth.api.filters.Filter;
import dev.berth.api.services.introspection.v1.IntrospectionGrpc;
import dev.berth.api.services.introspection.v1.Plugin;
import dev.berth.api.services.introspection.v1.PluginsRequest;
import dev.berth.api.services.introspection.v1.PluginsResponse;
import dev.berth.api.services.introspection.v1.ServerResponse;
import dev.berth.api.types.Platform;
import dev.berth.plugin.PluginDirectory;
import dev.berth.plugin.PluginInfo;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Optional;

/**
 * {@code containerd.services.introspection.v1.Introspection}: the daemon's plugins as they are now
 * ({@code ctr plugins ls}) and its identity ({@code ctr info} of the Go client's {@code Server()}).
 */
final class IntrospectionService extends IntrospectionGrpc.IntrospectionImplBase {

    /**
     * The text ctr looks for in {@code init_err.message} to print a plugin as {@code skip} rather than
     * {@code error}: containerd's {@code plugin.ErrSkipPlugin}, which skipped plugins wrap.
     */
    static final String SKIP_PLUGIN = "skip plugin";

    private final PluginDirectory plugins;
    private final ServerResponse server;

    IntrospectionService(PluginDirectory plugins, String uuid) {
        this.plugins = requireNonNull(plugins, "plugins is null");
        this.server = ServerResponse.newBuilder().setUuid(requireNonNull(uuid, "uuid is null")).build();
    }

    @Override
    public void plugins(PluginsRequest request, StreamObserver<PluginsResponse> observer) {
        PluginsResponse.Builder response = PluginsResponse.newBuilder();
        try {
            Filter filter = Filter.parseAll(request.getFiltersList());
            for (PluginInfo info : plugins.list()) {
                if (filter.matches(adaptor(info))) {
                    response.addPlugins(toProto(info));
                }
            }
        } catch (RuntimeException e) {
            observer.onError(Errors.toStatus(e));
            return;
        }
        observer.onNext(response.build());
        observer.onCompleted();
    }

    @Override
    public void server(Empty request, StreamObserver<ServerResponse> observer) {
        observer.onNext(server);
        observer.onCompleted();
    }

    // containerd filters plugins on type and id only; platforms and capabilities are never present
    private static Adaptor adaptor(PluginInfo info) {
        return path -> switch (path.getFirst()) {
            case "type" -> Adaptor.nonEmpty(info.type());
            case "id" -> Adaptor.nonEmpty(info.id());
            default -> Optional.empty();
        };
    }

    static Plugin toProto(PluginInfo info) {
        Plugin.Builder plugin = Plugin.newBuilder()
                .setType(info.type())
                .setId(info.id())
                .addAllRequires(info.requires())
                .putAllExports(info.exports())
                .addAllCapabilities(info.capabilities());
        info.platforms().forEach(platform -> plugin.addPlatforms(platform(platform)));
        initError(info).ifPresent(plugin::setInitErr);
        return plugin.build();
    }

    /**
     * Why the plugin is not usable, if it is not. A Go daemon reports an unclassified init error as
     * UNKNOWN with the error's text, and a skipped plugin's text ends with {@code skip plugin}; ctr
     * prints {@code ok} without an error, {@code skip} when the text contains {@code skip plugin} and
     * {@code error} otherwise. containerd lists only plugins it tried to initialise; Berth also lists
     * pending and closed ones, as errors, so that none of them reads {@code ok}.
     */
    private static Optional<Status> initError(PluginInfo info) {
        return switch (info.status()) {
            case OK -> Optional.empty();
            case SKIP -> {
                String reason = info.error().orElse("skipped");
                yield Optional.of(status(Code.UNKNOWN, reason.contains(SKIP_PLUGIN) ? reason : reason + ": " + SKIP_PLUGIN));
            }
            case ERROR -> Optional.of(status(Code.UNKNOWN, info.error().orElse("initialisation failed")));
            case PENDING -> Optional.of(status(Code.UNAVAILABLE, info.error().orElse("waiting for its dependencies")));
            case CLOSED -> Optional.of(status(Code.UNAVAILABLE, info.error().orElse("closed")));
        };
    }

    private static Status status(Code code, String message) {
        return Status.newBuilder().setCode(code.getNumber()).setMessage(message).build();
    }

    /** {@code os/architecture[/variant]}, as plugins declare platforms, to the wire's parts. */
    private static Platform platform(String platform) {
        List<String> parts = List.of(platform.split("/", 3));
        Platform.Builder builder = Platform.newBuilder().setOs(parts.getFirst());
        if (parts.size() > 1) {
            builder.setArchitecture(parts.get(1));
        }
        if (parts.size() > 2) {
            builder.setVariant(parts.get(2));
        }
        return builder.build();
    }
}
