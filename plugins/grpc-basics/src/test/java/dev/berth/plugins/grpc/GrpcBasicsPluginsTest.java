package dev.berth.plugins.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Empty;
import dev.berth.api.GrpcServices;
import dev.berth.api.services.introspection.v1.IntrospectionGrpc;
import dev.berth.api.services.version.v1.VersionGrpc;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import io.grpc.BindableService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GrpcBasicsPluginsTest {
    @TempDir
    Path dir;

    static Map<String, Registration<?>> registrations() {
        List<PluginProvider> providers = ServiceLoader.load(PluginProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(GrpcBasicsPlugins.class::isInstance)
                .toList();
        assertEquals(1, providers.size(), "the provider is listed in META-INF/services");
        return providers.getFirst().registrations().stream()
                .collect(Collectors.toMap(Registration::id, Function.identity()));
    }

    static BindableService init(Registration<?> registration, FakeInitContext ctx) throws Exception {
        return GrpcServices.TYPE.contract().cast(registration.init().init(ctx));
    }

    @Test
    void registersTheThreeServicesWithoutConfigOrDependencies() {
        Map<String, Registration<?>> registrations = registrations();
        assertEquals(Set.of("version", "introspection", "healthcheck"), registrations.keySet());
        for (Registration<?> registration : registrations.values()) {
            assertEquals(GrpcServices.TYPE, registration.type());
            assertEquals(Registration.NoConfig.class, registration.configType());
            assertEquals(List.of(), registration.requires());
        }
    }

    @Test
    void eachServesItsService() throws Exception {
        FakeInitContext ctx = FakeInitContext.in(dir, List::of);
        Map<String, Registration<?>> registrations = registrations();
        assertEquals("containerd.services.version.v1.Version", serviceName(init(registrations.get("version"), ctx)));
        assertEquals("containerd.services.introspection.v1.Introspection", serviceName(init(registrations.get("introspection"), ctx)));
        assertEquals("grpc.health.v1.Health", serviceName(init(registrations.get("healthcheck"), ctx)));
    }

    static String serviceName(BindableService service) {
        return service.bindService().getServiceDescriptor().getName();
    }

    @Test
    void versionComesFromTheDaemon() throws Exception {
        FakeInitContext ctx = FakeInitContext.in(dir, List::of);
        try (InProcess grpc = new InProcess(init(registrations().get("version"), ctx))) {
            var response = VersionGrpc.newBlockingStub(grpc.channel()).version(Empty.getDefaultInstance());
            assertEquals("1.2.3", response.getVersion());
            assertEquals("abc123", response.getRevision());
        }
    }

    @Test
    void introspectionKeepsItsUuidInItsRootAcrossRestarts() throws Exception {
        FakeInitContext ctx = FakeInitContext.in(dir, List::of);
        String first = uuidOf(init(registrations().get("introspection"), ctx));
        assertEquals(first, Files.readString(ctx.root().resolve("uuid")));
        assertEquals(first, uuidOf(init(registrations().get("introspection"), ctx)));
    }

    static String uuidOf(BindableService service) throws Exception {
        try (InProcess grpc = new InProcess(service)) {
            return IntrospectionGrpc.newBlockingStub(grpc.channel()).server(Empty.getDefaultInstance()).getUuid();
        }
    }
}
