package dev.berth.plugins.grpc.storage;

import static dev.berth.plugins.grpc.storage.NamespacesServiceTest.code;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.api.services.leases.v1.AddResourceRequest;
import dev.berth.api.services.leases.v1.CreateRequest;
import dev.berth.api.services.leases.v1.DeleteRequest;
import dev.berth.api.services.leases.v1.DeleteResourceRequest;
import dev.berth.api.services.leases.v1.Lease;
import dev.berth.api.services.leases.v1.LeasesGrpc;
import dev.berth.api.services.leases.v1.ListRequest;
import dev.berth.api.services.leases.v1.ListResourcesRequest;
import dev.berth.api.services.leases.v1.Resource;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Digest;
import io.grpc.Status;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeasesServiceTest {
    @TempDir
    Path dir;
    private Fixture fixture;
    private LeasesGrpc.LeasesBlockingStub leases;

    @BeforeEach
    void start() throws Exception {
        fixture = new Fixture(dir);
        leases = Fixture.in(LeasesGrpc.newBlockingStub(fixture.channel), "ns");
    }

    @AfterEach
    void stop() throws Exception {
        fixture.close();
    }

    private List<String> ids(String... filters) {
        return leases.list(ListRequest.newBuilder().addAllFilters(List.of(filters)).build()).getLeasesList().stream()
                .map(Lease::getId).toList();
    }

    private static Resource resource(String type, String id) {
        return Resource.newBuilder().setType(type).setId(id).build();
    }

    @Test
    void createListFilterAndDelete() {
        Lease created = leases.create(CreateRequest.newBuilder().setId("l1").putLabels("containerd.io/gc.expire", "2100-01-01T00:00:00Z").build()).getLease();
        assertEquals("l1", created.getId());
        assertTrue(created.getCreatedAt().getSeconds() > 0);
        leases.create(CreateRequest.newBuilder().setId("l2").putLabels("team", "a").build());
        assertEquals(List.of("l1", "l2"), ids());
        assertEquals(List.of("l2"), ids("labels.team==a"));
        assertEquals(List.of("l1"), ids("id==l1"));
        assertEquals(Status.Code.ALREADY_EXISTS, code(() -> leases.create(CreateRequest.newBuilder().setId("l1").build())));
        // a lease without an id gets a random one, as ctr leases create expects
        String generated = leases.create(CreateRequest.newBuilder().build()).getLease().getId();
        assertTrue(generated.matches("[0-9]+-[A-Za-z0-9_-]{4}"), generated);
        leases.delete(DeleteRequest.newBuilder().setId(generated).build());
        leases.delete(DeleteRequest.newBuilder().setId("l1").build());
        assertEquals(List.of("l2"), ids());
        assertEquals(Status.Code.NOT_FOUND, code(() -> leases.delete(DeleteRequest.newBuilder().setId("l1").build())));
        // leases are per namespace
        assertEquals(List.of(), Fixture.in(LeasesGrpc.newBlockingStub(fixture.channel), "other")
                .list(ListRequest.getDefaultInstance()).getLeasesList());
        assertEquals(Status.Code.FAILED_PRECONDITION, code(() -> LeasesGrpc.newBlockingStub(fixture.channel).list(ListRequest.getDefaultInstance())));
    }

    @Test
    void resources() {
        leases.create(CreateRequest.newBuilder().setId("l").build());
        String digest = Digest.sha256("x".getBytes(StandardCharsets.UTF_8)).toString();
        leases.addResource(AddResourceRequest.newBuilder().setId("l").setResource(resource("snapshots/overlayfs", "snap")).build());
        leases.addResource(AddResourceRequest.newBuilder().setId("l").setResource(resource("content", digest)).build());
        leases.addResource(AddResourceRequest.newBuilder().setId("l").setResource(resource("ingests", "ref")).build());
        assertEquals(List.of(resource("content", digest), resource("ingests", "ref"), resource("snapshots/overlayfs", "snap")),
                leases.listResources(ListResourcesRequest.newBuilder().setId("l").build()).getResourcesList());
        leases.deleteResource(DeleteResourceRequest.newBuilder().setId("l").setResource(resource("ingests", "ref")).build());
        assertEquals(2, leases.listResources(ListResourcesRequest.newBuilder().setId("l").build()).getResourcesCount());
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> leases.addResource(AddResourceRequest.newBuilder().setId("l")
                .setResource(resource("content", "not-a-digest")).build())));
        assertEquals(Status.Code.NOT_FOUND, code(() -> leases.addResource(AddResourceRequest.newBuilder().setId("missing")
                .setResource(resource("ingests", "r")).build())));
        assertEquals(Status.Code.NOT_FOUND, code(() -> leases.listResources(ListResourcesRequest.newBuilder().setId("missing").build())));
    }

    @Test
    void contentALeaseHoldsSurvivesCollectionUntilTheLeaseIsDeletedInSync() {
        leases.create(CreateRequest.newBuilder().setId("hold").build());
        ContentStore content = fixture.metadata.content("ns", Optional.of("hold"));
        byte[] bytes = "held by a lease".getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.sha256(bytes);
        try (ContentWriter writer = content.writer("held", bytes.length, Optional.of(digest))) {
            writer.write(ByteBuffer.wrap(bytes));
            writer.commit(bytes.length, Optional.of(digest), Map.of());
        }
        fixture.metadata.collectGarbage();
        assertEquals(bytes.length, content.info(digest).size());
        leases.delete(DeleteRequest.newBuilder().setId("hold").setSync(true).build());
        assertEquals(NotFoundException.class, assertThrowsAny(() -> content.info(digest)));
        assertEquals(NotFoundException.class, assertThrowsAny(() -> fixture.backend.info(digest)));
    }

    private static Class<?> assertThrowsAny(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            return e.getClass();
        }
        throw new AssertionError("no exception");
    }
}
