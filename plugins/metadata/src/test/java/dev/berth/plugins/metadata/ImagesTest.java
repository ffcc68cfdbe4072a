package dev.berth.plugins.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.Descriptor;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.metadata.Image;
import dev.berth.plugin.metadata.ImageStore;
import dev.berth.plugin.metadata.Labels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesTest {
    static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";

    @TempDir
    Path dir;
    Fixture fixture;
    ImageStore images;

    @BeforeEach
    void open() throws Exception {
        fixture = new Fixture(dir);
        images = fixture.store.images();
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    static Digest digest(String text) {
        return Digest.sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    static Image image(String name, Digest target) {
        return new Image(name, Map.of(), Descriptor.of(MANIFEST, target, 100), Instant.EPOCH, Instant.EPOCH);
    }

    @Test
    void createGetListDelete() {
        Image created = images.create("ns", new Image("b", Map.of("k", "v", "empty", ""),
                new Descriptor(MANIFEST, digest("b"), 10, Map.of("a", "1")), Instant.EPOCH, Instant.EPOCH));
        assertEquals(fixture.clock.instant(), created.createdAt());
        assertEquals(fixture.clock.instant(), created.updatedAt());
        assertEquals(Map.of("k", "v"), created.labels());
        assertEquals(created, images.get("ns", "b"));
        images.create("ns", image("a", digest("a")));
        images.create("other", image("c", digest("c")));

        assertEquals("image \"b\": already exists",
                assertThrows(AlreadyExistsException.class, () -> images.create("ns", image("b", digest("x")))).getMessage());
        assertEquals(List.of("a", "b"), images.list("ns", i -> true).stream().map(Image::name).toList());
        assertEquals(List.of(created), images.list("ns", i -> "v".equals(i.labels().get("k"))));
        assertEquals(List.of("a"), images.list("ns", i -> i.target().digest().equals(digest("a"))).stream()
                .map(Image::name).toList());
        assertEquals(List.of("c"), images.list("other", i -> true).stream().map(Image::name).toList());

        images.delete("ns", "b", false);
        assertEquals("image \"b\": not found",
                assertThrows(NotFoundException.class, () -> images.get("ns", "b")).getMessage());
        assertThrows(NotFoundException.class, () -> images.delete("ns", "b", false));
        assertThrows(NotFoundException.class, () -> images.get("other", "a"), "images are per namespace");
    }

    @Test
    void invalidImagesAreRefused() {
        assertEquals("image name must not be empty: invalid argument",
                assertThrows(InvalidArgumentException.class, () -> images.create("ns", image("", digest("x")))).getMessage());
        assertThrows(InvalidArgumentException.class, () -> images.create("ns",
                new Image("x", Map.of(), Descriptor.of("", digest("x"), 1), Instant.EPOCH, Instant.EPOCH)));
        assertThrows(InvalidArgumentException.class, () -> images.create("ns",
                new Image("x", Map.of(), Descriptor.of(MANIFEST, digest("x"), 0), Instant.EPOCH, Instant.EPOCH)));
        assertThrows(InvalidArgumentException.class, () -> images.create("ns",
                new Image("x", Map.of("k", "v".repeat(Labels.MAX_SIZE)), Descriptor.of(MANIFEST, digest("x"), 1),
                        Instant.EPOCH, Instant.EPOCH)));
        assertThrows(InvalidArgumentException.class, () -> images.create("bad/ns", image("x", digest("x"))));
        assertEquals(List.of(), images.list("ns", i -> true));
    }

    @Test
    void updatesFollowFieldPaths() {
        Image original = images.create("ns", new Image("img", Map.of("keep", "1", "change", "2", "drop", "3"),
                new Descriptor(MANIFEST, digest("one"), 10, Map.of("a", "1", "b", "2")), Instant.EPOCH, Instant.EPOCH));
        fixture.clock.advance(Duration.ofMinutes(1));
        Descriptor otherTarget = new Descriptor("application/vnd.oci.image.index.v1+json", digest("two"), 20,
                Map.of("b", "20", "c", "30"));
        Image request = new Image("img", Map.of("change", "20", "new", "4"), otherTarget, Instant.EPOCH, Instant.EPOCH);

        Image updated = images.update("ns", request, List.of("labels.change", "labels.drop", "annotations.b"));
        assertEquals(Map.of("keep", "1", "change", "20"), updated.labels());
        assertEquals(new Descriptor(MANIFEST, digest("one"), 10, Map.of("a", "1", "b", "20")), updated.target());
        assertEquals(original.createdAt(), updated.createdAt());
        assertEquals(fixture.clock.instant(), updated.updatedAt());
        assertEquals(updated, images.get("ns", "img"));

        updated = images.update("ns", request, List.of("target"));
        assertEquals(otherTarget, updated.target());
        updated = images.update("ns", new Image("img", Map.of(), Descriptor.of(MANIFEST, digest("one"), 10),
                Instant.EPOCH, Instant.EPOCH), List.of("annotations"));
        assertEquals(new Descriptor(otherTarget.mediaType(), otherTarget.digest(), otherTarget.size(), Map.of()),
                updated.target(), "only the annotations changed");
        updated = images.update("ns", request, List.of("labels"));
        assertEquals(Map.of("change", "20", "new", "4"), updated.labels());

        Image replacing = new Image("img", Map.of("only", "this"), Descriptor.of(MANIFEST, digest("three"), 5),
                Instant.EPOCH, Instant.EPOCH);
        updated = images.update("ns", replacing, List.of());
        assertEquals(Map.of("only", "this"), updated.labels());
        assertEquals(replacing.target(), updated.target());
        assertEquals(original.createdAt(), updated.createdAt());

        assertEquals("cannot update \"name\" field on image \"img\": invalid argument",
                assertThrows(InvalidArgumentException.class, () -> images.update("ns", request, List.of("name"))).getMessage());
        assertThrows(InvalidArgumentException.class, () -> images.update("ns",
                new Image("img", Map.of(), Descriptor.of("", digest("x"), 1), Instant.EPOCH, Instant.EPOCH), List.of("target")));
        assertEquals(updated, images.get("ns", "img"), "refused updates change nothing");
        assertThrows(NotFoundException.class, () -> images.update("ns", image("absent", digest("x")), List.of()));
    }

    @Test
    void anImageKeepsItsContentAndSnapshotsUntilDeletedWithSync() {
        ContentStore content = fixture.content("ns");
        Digest layer = Fixture.commit(content, "layer", Map.of());
        var unpacked = fixture.snapshots("ns");
        unpacked.prepare("extract", "", Map.of());
        unpacked.commit("sha256:chain", "extract", Map.of());
        Digest config = Fixture.commit(content, "config", Map.of(Labels.GC_REF_SNAPSHOT + "native", "sha256:chain"));
        Digest manifest = Fixture.commit(content, "manifest", Map.of(
                Labels.GC_REF_CONTENT + ".config", config.toString(),
                Labels.GC_REF_CONTENT + ".l.0", layer.toString()));
        Digest loose = Fixture.commit(content, "loose", Map.of());
        images.create("ns", image("docker.io/library/app:1", manifest));

        fixture.store.collectGarbage();
        for (Digest kept : List.of(layer, config, manifest)) {
            assertTrue(Fixture.exists(content, kept), kept.toString());
            assertTrue(Fixture.exists(fixture.backend, kept), kept.toString());
        }
        assertFalse(Fixture.exists(content, loose));
        assertEquals("sha256:chain", unpacked.stat("sha256:chain").name());

        images.delete("ns", "docker.io/library/app:1", true);
        for (Digest freed : List.of(layer, config, manifest)) {
            assertFalse(Fixture.exists(content, freed), freed.toString());
            assertFalse(Fixture.exists(fixture.backend, freed), freed.toString());
        }
        assertThrows(NotFoundException.class, () -> unpacked.stat("sha256:chain"));
        assertEquals(Set.of(), Fixture.backendNames(fixture.nativeBackend));
    }

    @Test
    void imagesSurviveReopening() {
        Image created = images.create("ns", image("kept", digest("kept")));
        fixture.reopen();
        assertEquals(created, fixture.store.images().get("ns", "kept"));
    }
}
