package dev.berth.plugins.grpc.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.FieldMask;
import dev.berth.api.events.ContainerCreate;
import dev.berth.api.events.ContainerDelete;
import dev.berth.api.events.ContainerUpdate;
import dev.berth.api.services.containers.v1.Container;
import dev.berth.api.services.containers.v1.ContainersGrpc;
import dev.berth.api.services.containers.v1.ContainersGrpc.ContainersBlockingStub;
import dev.berth.api.services.containers.v1.CreateContainerRequest;
import dev.berth.api.services.containers.v1.DeleteContainerRequest;
import dev.berth.api.services.containers.v1.GetContainerRequest;
import dev.berth.api.services.containers.v1.ListContainersRequest;
import dev.berth.api.services.containers.v1.UpdateContainerRequest;
import dev.berth.plugin.events.Envelope;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.Subscription;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The containers service over a real LMDB metadata store and event exchange. */
class ContainersServiceTest {
    private static final Any SPEC = Any.newBuilder().setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Spec")
            .setValue(ByteString.copyFrom("{}", StandardCharsets.UTF_8)).build();

    @TempDir
    Path dir;
    Fixture fixture;
    ContainersBlockingStub containers;

    @BeforeEach
    void open() throws Exception {
        fixture = new Fixture(dir);
        containers = Fixture.in(ContainersGrpc.newBlockingStub(fixture.channel), "ns");
    }

    @AfterEach
    void close() throws Exception {
        fixture.close();
    }

    private static Container container(String id, String image, String label) {
        return Container.newBuilder().setId(id).setImage(image).putLabels("role", label)
                .setRuntime(Container.Runtime.newBuilder().setName(Fixture.RUNC)
                        .setOptions(Any.newBuilder().setTypeUrl("containerd.runc.v1.Options")))
                .setSpec(SPEC).setSnapshotter("native").setSnapshotKey(id)
                .putExtensions("ext", Any.newBuilder().setTypeUrl("example.Ext").setValue(ByteString.copyFromUtf8("x")).build())
                .build();
    }

    /** The daemon runs these on its transport thread: a write among them would hold it up for a disk sync. */
    @Test
    void onlyTheReadsAreDeclaredNonBlocking() {
        ContainersService service = new ContainersService(fixture.metadata.containers(), fixture.exchange);
        assertEquals(Set.of("containerd.services.containers.v1.Containers/Get",
                "containerd.services.containers.v1.Containers/List",
                "containerd.services.containers.v1.Containers/ListStream"), service.nonBlockingMethods());
    }

    @Test
    void createGetListAndStreamAsContainerd() {
        Container created = containers.create(CreateContainerRequest.newBuilder()
                .setContainer(container("web", "docker.io/library/nginx:latest", "front")).build()).getContainer();
        containers.create(CreateContainerRequest.newBuilder()
                .setContainer(container("db", "docker.io/library/postgres:16", "back")).build());
        assertTrue(created.hasCreatedAt());
        assertEquals(SPEC, created.getSpec());
        assertEquals(created, containers.get(GetContainerRequest.newBuilder().setId("web").build()).getContainer());

        assertEquals(List.of("db", "web"), ids(containers.list(ListContainersRequest.getDefaultInstance())
                .getContainersList()));
        assertEquals(List.of("web"), ids(containers.list(ListContainersRequest.newBuilder()
                .addFilters("labels.role==front").build()).getContainersList()));
        assertEquals(List.of("db"), ids(containers.list(ListContainersRequest.newBuilder()
                .addFilters("image~=postgres").build()).getContainersList()));
        assertEquals(List.of("db", "web"), ids(containers.list(ListContainersRequest.newBuilder()
                .addFilters("runtime.name==" + Fixture.RUNC).build()).getContainersList()));
        assertEquals(List.of("db", "web"), ids(containers.list(ListContainersRequest.newBuilder()
                .addFilters("id==db").addFilters("id==web").build()).getContainersList()));
        List<Container> streamed = new ArrayList<>();
        containers.listStream(ListContainersRequest.newBuilder().addFilters("id==web").build())
                .forEachRemaining(message -> streamed.add(message.getContainer()));
        assertEquals(List.of(created), streamed);
        assertEquals(List.of(), Fixture.in(ContainersGrpc.newBlockingStub(fixture.channel), "other")
                .list(ListContainersRequest.getDefaultInstance()).getContainersList());
    }

    @Test
    void errorsCarryContainerdCodes() {
        containers.create(CreateContainerRequest.newBuilder().setContainer(container("web", "", "x")).build());
        assertEquals(Status.Code.ALREADY_EXISTS, code(() -> containers.create(CreateContainerRequest.newBuilder()
                .setContainer(container("web", "", "x")).build())));
        assertEquals(Status.Code.NOT_FOUND, code(() -> containers.get(GetContainerRequest.newBuilder()
                .setId("missing").build())));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> containers.create(CreateContainerRequest.newBuilder()
                .setContainer(container("web", "", "x").toBuilder().clearRuntime()).build())));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> containers.list(ListContainersRequest.newBuilder()
                .addFilters("labels.==").build())));
        assertEquals(Status.Code.FAILED_PRECONDITION, code(() -> ContainersGrpc.newBlockingStub(fixture.channel)
                .list(ListContainersRequest.getDefaultInstance())));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> containers.update(UpdateContainerRequest.newBuilder()
                .setContainer(Container.getDefaultInstance()).build())));
    }

    @Test
    void updateFollowsTheMaskAndRefusesImmutableFields() {
        containers.create(CreateContainerRequest.newBuilder().setContainer(container("web", "a:1", "front")).build());
        Container changes = container("web", "b:2", "back").toBuilder().putLabels("added", "yes").build();
        Container updated = containers.update(UpdateContainerRequest.newBuilder().setContainer(changes)
                .setUpdateMask(FieldMask.newBuilder().addPaths("labels.added")).build()).getContainer();
        assertEquals("a:1", updated.getImage());
        assertEquals("front", updated.getLabelsOrThrow("role"));
        assertEquals("yes", updated.getLabelsOrThrow("added"));

        Container whole = containers.update(UpdateContainerRequest.newBuilder().setContainer(changes).build())
                .getContainer();
        assertEquals("b:2", whole.getImage());
        assertEquals("back", whole.getLabelsOrThrow("role"));

        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> containers.update(UpdateContainerRequest.newBuilder()
                .setContainer(changes.toBuilder().setSnapshotter("overlayfs")).build())));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> containers.update(UpdateContainerRequest.newBuilder()
                .setContainer(changes).setUpdateMask(FieldMask.newBuilder().addPaths("runtime")).build())));
    }

    @Test
    void changesArePublishedWithContainerdPayloads() throws Exception {
        try (Subscription events = fixture.exchange.subscribe(e -> e.topic().startsWith("/containers/"))) {
            containers.create(CreateContainerRequest.newBuilder().setContainer(container("web", "a:1", "x")).build());
            containers.update(UpdateContainerRequest.newBuilder().setContainer(container("web", "b:2", "y"))
                    .setUpdateMask(FieldMask.newBuilder().addPaths("image")).build());
            containers.delete(DeleteContainerRequest.newBuilder().setId("web").build());

            Envelope create = events.poll(Duration.ofSeconds(5)).orElseThrow();
            assertEquals("/containers/create", create.topic());
            assertEquals("ns", create.namespace());
            ContainerCreate created = ContainerCreate.parseFrom(payload(create, "containerd.events.ContainerCreate"));
            assertEquals("web", created.getId());
            assertEquals(Fixture.RUNC, created.getRuntime().getName());
            Envelope update = events.poll(Duration.ofSeconds(5)).orElseThrow();
            assertEquals("/containers/update", update.topic());
            assertEquals("b:2", ContainerUpdate.parseFrom(payload(update, "containerd.events.ContainerUpdate"))
                    .getImage());
            Envelope delete = events.poll(Duration.ofSeconds(5)).orElseThrow();
            assertEquals("/containers/delete", delete.topic());
            assertEquals("web", ContainerDelete.parseFrom(payload(delete, "containerd.events.ContainerDelete"))
                    .getId());
        }
        assertEquals(Status.Code.NOT_FOUND, code(() -> containers.delete(DeleteContainerRequest.newBuilder()
                .setId("web").build())));
    }

    private static byte[] payload(Envelope envelope, String typeUrl) {
        Event.Opaque opaque = (Event.Opaque) envelope.event();
        assertEquals(typeUrl, opaque.typeUrl());
        return opaque.value();
    }

    private static List<String> ids(List<Container> containers) {
        return containers.stream().map(Container::getId).toList();
    }

    static Status.Code code(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
    }
}
