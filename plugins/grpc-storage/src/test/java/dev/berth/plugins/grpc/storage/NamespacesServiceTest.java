package dev.berth.plugins.grpc.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.FieldMask;
import dev.berth.api.services.namespaces.v1.CreateNamespaceRequest;
import dev.berth.api.services.namespaces.v1.DeleteNamespaceRequest;
import dev.berth.api.services.namespaces.v1.GetNamespaceRequest;
import dev.berth.api.services.namespaces.v1.ListNamespacesRequest;
import dev.berth.api.services.namespaces.v1.Namespace;
import dev.berth.api.services.namespaces.v1.NamespacesGrpc;
import dev.berth.api.services.namespaces.v1.UpdateNamespaceRequest;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.Subscription;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamespacesServiceTest {
    @TempDir
    Path dir;
    private Fixture fixture;
    private NamespacesGrpc.NamespacesBlockingStub namespaces;

    @BeforeEach
    void start() throws Exception {
        fixture = new Fixture(dir);
        namespaces = Fixture.in(NamespacesGrpc.newBlockingStub(fixture.channel), "default");
    }

    @AfterEach
    void stop() throws Exception {
        fixture.close();
    }

    private void create(String name, Map<String, String> labels) {
        namespaces.create(CreateNamespaceRequest.newBuilder()
                .setNamespace(Namespace.newBuilder().setName(name).putAllLabels(labels)).build());
    }

    private Map<String, String> labels(String name) {
        return namespaces.get(GetNamespaceRequest.newBuilder().setName(name).build()).getNamespace().getLabelsMap();
    }

    /** The daemon runs these on its transport thread: a write among them would hold it up for a disk sync. */
    @Test
    void onlyTheReadsAreDeclaredNonBlocking() {
        NamespacesService service = new NamespacesService(fixture.metadata.namespaces(), fixture.exchange);
        assertEquals(Set.of("containerd.services.namespaces.v1.Namespaces/Get",
                "containerd.services.namespaces.v1.Namespaces/List"), service.nonBlockingMethods());
    }

    @Test
    void createListGetUpdateDeleteWithEvents() throws Exception {
        try (Subscription events = fixture.exchange.subscribe(envelope -> true)) {
            create("prod", Map.of("team", "a"));
            create("dev", Map.of());
            assertEquals(java.util.List.of("dev", "prod"), namespaces.list(ListNamespacesRequest.getDefaultInstance())
                    .getNamespacesList().stream().map(Namespace::getName).toList());
            assertEquals(Map.of("team", "a"), labels("prod"));

            // ctr namespaces label: one label by field path; an empty value removes it
            namespaces.update(UpdateNamespaceRequest.newBuilder()
                    .setNamespace(Namespace.newBuilder().setName("prod").putLabels("tier", "1"))
                    .setUpdateMask(FieldMask.newBuilder().addPaths("labels.tier")).build());
            assertEquals(Map.of("team", "a", "tier", "1"), labels("prod"));
            namespaces.update(UpdateNamespaceRequest.newBuilder()
                    .setNamespace(Namespace.newBuilder().setName("prod"))
                    .setUpdateMask(FieldMask.newBuilder().addPaths("labels.team")).build());
            assertEquals(Map.of("tier", "1"), labels("prod"));
            // without a mask the request's labels replace them all
            namespaces.update(UpdateNamespaceRequest.newBuilder()
                    .setNamespace(Namespace.newBuilder().setName("prod").putLabels("x", "y")).build());
            assertEquals(Map.of("x", "y"), labels("prod"));

            namespaces.delete(DeleteNamespaceRequest.newBuilder().setName("dev").build());
            assertEquals(java.util.List.of("prod"), namespaces.list(ListNamespacesRequest.getDefaultInstance())
                    .getNamespacesList().stream().map(Namespace::getName).toList());

            var create = events.take();
            assertEquals("default", create.namespace());
            assertEquals("/namespaces/create", create.topic());
            assertEquals(new Event.NamespaceCreate("prod", Map.of("team", "a")), create.event());
            assertEquals(new Event.NamespaceCreate("dev", Map.of()), events.take().event());
            assertEquals("/namespaces/update", events.take().topic());
            events.take();
            assertEquals(new Event.NamespaceUpdate("prod", Map.of("x", "y")), events.take().event());
            var delete = events.take();
            assertEquals("dev", delete.namespace());
            assertEquals("/namespaces/delete", delete.topic());
            assertEquals(new Event.NamespaceDelete("dev"), delete.event());
            assertEquals(Optional.empty(), events.poll(Duration.ofMillis(50)));
        }
    }

    @Test
    void refusesDuplicatesInvalidNamesAndUnknownFields() {
        create("a", Map.of());
        assertEquals(Status.Code.ALREADY_EXISTS, code(() -> create("a", Map.of())));
        for (String invalid : new String[] {"", "-a", "a..b", "a/b", "a b", "x".repeat(77)}) {
            assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> create(invalid, Map.of())), invalid);
        }
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> create("big", Map.of("k", "v".repeat(5000)))));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> namespaces.update(UpdateNamespaceRequest.newBuilder()
                .setNamespace(Namespace.newBuilder().setName("a"))
                .setUpdateMask(FieldMask.newBuilder().addPaths("name")).build())));
        assertEquals(Status.Code.NOT_FOUND, code(() -> namespaces.delete(DeleteNamespaceRequest.newBuilder().setName("nope").build())));
    }

    @Test
    void deletingANamespaceThatHoldsContentFails() {
        create("busy", Map.of());
        byte[] bytes = "held".getBytes(StandardCharsets.UTF_8);
        try (ContentWriter writer = fixture.metadata.content("busy", Optional.empty()).writer("r", bytes.length, Optional.empty())) {
            writer.write(ByteBuffer.wrap(bytes));
            writer.commit(bytes.length, Optional.of(Digest.sha256(bytes)), Map.of());
        }
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                () -> namespaces.delete(DeleteNamespaceRequest.newBuilder().setName("busy").build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
        assertTrue(refused.getStatus().getDescription().contains("must be empty"), refused.getStatus().getDescription());
    }

    static Status.Code code(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
    }
}
