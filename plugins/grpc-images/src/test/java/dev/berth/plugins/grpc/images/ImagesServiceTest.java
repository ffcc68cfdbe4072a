package dev.berth.plugins.grpc.images;

import static dev.berth.plugins.grpc.images.Fixture.in;
import static dev.berth.plugins.grpc.images.SnapshotsServiceTest.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.FieldMask;
import dev.berth.api.services.images.v1.CreateImageRequest;
import dev.berth.api.services.images.v1.DeleteImageRequest;
import dev.berth.api.services.images.v1.GetImageRequest;
import dev.berth.api.services.images.v1.Image;
import dev.berth.api.services.images.v1.ImagesGrpc;
import dev.berth.api.services.images.v1.ListImagesRequest;
import dev.berth.api.services.images.v1.UpdateImageRequest;
import dev.berth.api.types.Descriptor;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.events.Envelope;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Subscription;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesServiceTest {
    private static final String NS = "testing";
    private static final String INDEX = "application/vnd.oci.image.index.v1+json";
    private static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";

    @TempDir
    Path dir;
    private Fixture fixture;
    private ImagesGrpc.ImagesBlockingStub images;

    @BeforeEach
    void start() throws Exception {
        fixture = new Fixture(dir);
        images = in(ImagesGrpc.newBlockingStub(fixture.channel), NS);
    }

    @AfterEach
    void stop() throws Exception {
        fixture.close();
    }

    /** The daemon runs these on its transport thread: a write among them would hold it up for a disk sync. */
    @Test
    void onlyTheReadsAreDeclaredNonBlocking() {
        ImagesService service = new ImagesService(fixture.metadata.images(), fixture.exchange);
        assertEquals(Set.of("containerd.services.images.v1.Images/Get", "containerd.services.images.v1.Images/List"),
                service.nonBlockingMethods());
    }

    @Test
    void createsGetsUpdatesAndDeletesWithEvents() throws Exception {
        try (Subscription events = fixture.exchange.subscribe(e -> e.topic().startsWith("/images/"))) {
            Image created = create("docker.io/library/busybox:latest", target(INDEX, "a"), Map.of("env", "test"));
            assertEquals("docker.io/library/busybox:latest", created.getName());
            assertTrue(created.getCreatedAt().getSeconds() > 0);
            assertEquals(created, get("docker.io/library/busybox:latest"));
            assertStatus(Status.Code.ALREADY_EXISTS, () -> create("docker.io/library/busybox:latest", target(INDEX, "b"), Map.of()));

            // as ctr images label sends it: a name, one label, no target
            Image labelled = images.update(UpdateImageRequest.newBuilder()
                    .setImage(Image.newBuilder().setName(created.getName()).putLabels("owner", "ops"))
                    .setUpdateMask(FieldMask.newBuilder().addPaths("labels.owner")).build()).getImage();
            assertEquals(Map.of("env", "test", "owner", "ops"), labelled.getLabelsMap());
            assertEquals(created.getTarget(), labelled.getTarget());

            Descriptor retarget = target(MANIFEST, "c");
            Image moved = images.update(UpdateImageRequest.newBuilder()
                    .setImage(Image.newBuilder().setName(created.getName()).setTarget(retarget))
                    .setUpdateMask(FieldMask.newBuilder().addPaths("target")).build()).getImage();
            assertEquals(retarget, moved.getTarget());
            assertEquals(labelled.getLabelsMap(), moved.getLabelsMap());

            // no mask: labels and target both replaced
            Image replaced = images.update(UpdateImageRequest.newBuilder()
                    .setImage(Image.newBuilder().setName(created.getName()).setTarget(target(INDEX, "d"))
                            .putLabels("only", "this")).build()).getImage();
            assertEquals(Map.of("only", "this"), replaced.getLabelsMap());
            assertEquals(target(INDEX, "d"), replaced.getTarget());
            assertEquals(replaced, get(created.getName()));
            assertStatus(Status.Code.INVALID_ARGUMENT, () -> images.update(UpdateImageRequest.newBuilder()
                    .setImage(Image.newBuilder().setName(created.getName())).build()));
            assertStatus(Status.Code.NOT_FOUND, () -> images.update(UpdateImageRequest.newBuilder()
                    .setImage(Image.newBuilder().setName("missing").putLabels("a", "b"))
                    .setUpdateMask(FieldMask.newBuilder().addPaths("labels")).build()));

            images.delete(DeleteImageRequest.newBuilder().setName(created.getName()).build());
            assertStatus(Status.Code.NOT_FOUND, () -> get(created.getName()));
            assertStatus(Status.Code.NOT_FOUND, () -> images.delete(DeleteImageRequest.newBuilder()
                    .setName(created.getName()).build()));

            assertEquals(new Event.ImageCreate(created.getName(), Map.of("env", "test")), next(events, EventTypes.IMAGE_CREATE));
            assertEquals(new Event.ImageUpdate(created.getName(), Map.of("env", "test", "owner", "ops")),
                    next(events, EventTypes.IMAGE_UPDATE));
            next(events, EventTypes.IMAGE_UPDATE);
            assertEquals(new Event.ImageUpdate(created.getName(), Map.of("only", "this")), next(events, EventTypes.IMAGE_UPDATE));
            assertEquals(new Event.ImageDelete(created.getName()), next(events, EventTypes.IMAGE_DELETE));
            assertEquals(Optional.empty(), events.poll(Duration.ofMillis(50)));
        }
    }

    @Test
    void refusesInvalidImages() {
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> create("", target(INDEX, "a"), Map.of()));
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> create("x", target("", "a"), Map.of()));
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> create("x", Descriptor.newBuilder().setMediaType(INDEX)
                .setDigest("sha256:short").setSize(1).build(), Map.of()));
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> create("x", target(INDEX, "a").toBuilder().setSize(0).build(),
                Map.of()));
        assertStatus(Status.Code.FAILED_PRECONDITION, () -> ImagesGrpc.newBlockingStub(fixture.channel)
                .list(ListImagesRequest.getDefaultInstance()));
        assertEquals(List.of(), images.list(ListImagesRequest.getDefaultInstance()).getImagesList());
    }

    @Test
    void listsWithContainerdFilters() {
        create("registry.test/app:1", target(INDEX, "1").toBuilder().putAnnotations("org.opencontainers.image.ref.name", "1")
                .build(), Map.of("tier", "web"));
        create("registry.test/app:2", target(MANIFEST, "2"), Map.of("tier", "db"));
        create("registry.test/tool:1", target(MANIFEST, "3"), Map.of());

        assertEquals(List.of("registry.test/app:1", "registry.test/app:2", "registry.test/tool:1"), list());
        assertEquals(List.of("registry.test/app:2"), list("name==registry.test/app:2"));
        assertEquals(List.of("registry.test/app:1", "registry.test/app:2"), list("name~=app"));
        assertEquals(List.of("registry.test/app:2", "registry.test/tool:1"), list("target.mediatype==" + MANIFEST));
        assertEquals(List.of("registry.test/tool:1"), list("target.digest==" + target(MANIFEST, "3").getDigest()));
        assertEquals(List.of("registry.test/app:1"), list("labels.tier==web"));
        assertEquals(List.of("registry.test/app:1", "registry.test/app:2"), list("labels.tier"));
        assertEquals(List.of("registry.test/app:1"), list("annotations.\"org.opencontainers.image.ref.name\"==1"));
        assertEquals(List.of("registry.test/app:1", "registry.test/tool:1"), list("labels.tier==web", "name~=tool"));

        assertEquals(List.of(), in(ImagesGrpc.newBlockingStub(fixture.channel), "other")
                .list(ListImagesRequest.getDefaultInstance()).getImagesList());
    }

    @Test
    void deletingWithSyncCollectsWhatOnlyTheImageHeld() {
        byte[] manifest = "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8);
        var blob = fixture.commit(NS, manifest, MANIFEST);
        create("held:latest", Protos.toProto(blob), Map.of());
        fixture.metadata.collectGarbage();
        assertEquals(manifest.length, fixture.metadata.content(NS, Optional.empty()).info(blob.digest()).size());

        images.delete(DeleteImageRequest.newBuilder().setName("held:latest").setSync(true).build());
        assertStatus(Status.Code.NOT_FOUND, () -> info(blob.digest()));
    }

    private void info(Digest digest) {
        try {
            fixture.metadata.content(NS, Optional.empty()).info(digest);
        } catch (RuntimeException e) {
            throw dev.berth.api.Errors.toStatus(e);
        }
    }

    private Image create(String name, Descriptor target, Map<String, String> labels) {
        return images.create(CreateImageRequest.newBuilder().setImage(Image.newBuilder().setName(name)
                .setTarget(target).putAllLabels(labels)).build()).getImage();
    }

    private Image get(String name) {
        return images.get(GetImageRequest.newBuilder().setName(name).build()).getImage();
    }

    private List<String> list(String... filters) {
        return images.list(ListImagesRequest.newBuilder().addAllFilters(List.of(filters)).build()).getImagesList()
                .stream().map(Image::getName).toList();
    }

    private static Descriptor target(String mediaType, String seed) {
        return Descriptor.newBuilder().setMediaType(mediaType)
                .setDigest(Digest.sha256(seed.getBytes(StandardCharsets.UTF_8)).toString()).setSize(100 + seed.length())
                .build();
    }

    private static Event next(Subscription events, String topic) throws InterruptedException {
        Envelope envelope = events.poll(Duration.ofSeconds(5)).orElseThrow(() -> new AssertionError("no " + topic));
        assertEquals(topic, envelope.topic());
        assertEquals(NS, envelope.namespace());
        return envelope.event();
    }
}
