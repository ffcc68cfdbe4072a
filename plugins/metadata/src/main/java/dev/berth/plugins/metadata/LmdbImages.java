package dev.berth.plugins.metadata;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.content.Descriptor;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.metadata.Identifiers;
import dev.berth.plugin.metadata.Image;
import dev.berth.plugin.metadata.ImageStore;
import dev.berth.plugin.metadata.Labels;
import dev.berth.plugins.metadata.Records.ImageRecord;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/** Images in the {@code images} table, as containerd's metadata image store; each is a collection root. */
final class LmdbImages implements ImageStore {
    private final Db db;
    private final Clock clock;
    private final Runnable collect;

    LmdbImages(Db db, Clock clock, Runnable collect) {
        this.db = db;
        this.clock = clock;
        this.collect = collect;
    }

    @Override
    public Image get(String namespace, String name) {
        Identifiers.validate(namespace);
        requireNonNull(name, "name is null");
        return db.read(tx -> toImage(require(tx, namespace, name)));
    }

    @Override
    public List<Image> list(String namespace, Predicate<? super Image> filter) {
        Identifiers.validate(namespace);
        requireNonNull(filter, "filter is null");
        List<Image> found = db.read(tx -> {
            List<Image> images = new ArrayList<>();
            for (byte[] value : tx.scan(db.images, Codec.prefix(namespace))) {
                Image image = toImage(ImageRecord.decode(value));
                if (filter.test(image)) {
                    images.add(image);
                }
            }
            return images;
        });
        // long names are hashed in keys, so key order is not name order
        found.sort(Comparator.comparing(Image::name));
        return List.copyOf(found);
    }

    @Override
    public Image create(String namespace, Image image) {
        Identifiers.validate(namespace);
        validate(image.name(), image.labels(), image.target());
        return db.write(tx -> {
            byte[] key = Codec.key(namespace, image.name());
            if (tx.get(db.images, key) != null) {
                throw BerthException.of(BerthException.Kind.ALREADY_EXISTS, "image \"" + image.name() + "\"");
            }
            LmdbNamespaces.ensure(db, tx, namespace);
            Instant now = clock.instant();
            ImageRecord record = toRecord(namespace, image.name(), image.labels(), image.target(), now, now);
            tx.put(db.images, key, record.encode());
            return toImage(record);
        });
    }

    @Override
    public Image update(String namespace, Image image, List<String> fieldPaths) {
        Identifiers.validate(namespace);
        requireNonNull(fieldPaths, "fieldPaths is null");
        if (image.name().isEmpty()) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "image name is required for update");
        }
        return db.write(tx -> {
            Image current = toImage(require(tx, namespace, image.name()));
            Map<String, String> labels = new TreeMap<>(current.labels());
            Descriptor target = current.target();
            Map<String, String> annotations = new TreeMap<>(target.annotations());
            if (fieldPaths.isEmpty()) {
                labels = new TreeMap<>(image.labels());
                target = image.target();
                annotations = new TreeMap<>(target.annotations());
            }
            for (String path : fieldPaths) {
                if (path.startsWith("labels.")) {
                    String key = path.substring("labels.".length());
                    putOrRemove(labels, key, image.labels().get(key));
                } else if (path.startsWith("annotations.")) {
                    String key = path.substring("annotations.".length());
                    putOrRemove(annotations, key, image.target().annotations().get(key));
                } else {
                    switch (path) {
                        case "labels" -> labels = new TreeMap<>(image.labels());
                        // the target is replaced as a unit: its fields make sense only together
                        case "target" -> {
                            target = image.target();
                            annotations = new TreeMap<>(target.annotations());
                        }
                        case "annotations" -> annotations = new TreeMap<>(image.target().annotations());
                        default -> throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                                "cannot update \"" + path + "\" field on image \"" + image.name() + "\"");
                    }
                }
            }
            Descriptor updatedTarget = new Descriptor(target.mediaType(), target.digest(), target.size(), annotations);
            validate(image.name(), labels, updatedTarget);
            ImageRecord record = toRecord(namespace, image.name(), labels, updatedTarget, current.createdAt(),
                    clock.instant());
            tx.put(db.images, Codec.key(namespace, image.name()), record.encode());
            return toImage(record);
        });
    }

    @Override
    public void delete(String namespace, String name, boolean sync) {
        Identifiers.validate(namespace);
        requireNonNull(name, "name is null");
        db.write(tx -> {
            require(tx, namespace, name);
            tx.delete(db.images, Codec.key(namespace, name));
            db.markDirty();
            return null;
        });
        if (sync) {
            collect.run();
        }
    }

    private ImageRecord require(Db.Tx tx, String namespace, String name) {
        // a name with NUL finds nothing: no recorded name has one
        byte[] value = tx.get(db.images, Codec.key(namespace, name));
        if (value == null) {
            throw BerthException.of(BerthException.Kind.NOT_FOUND, "image \"" + name + "\"");
        }
        return ImageRecord.decode(value);
    }

    /** containerd's checks of what it stores; a digest is valid by construction. */
    private static void validate(String name, Map<String, String> labels, Descriptor target) {
        if (name.isEmpty()) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "image name must not be empty");
        }
        if (name.indexOf('\0') >= 0) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "image name contains NUL");
        }
        Labels.validate("image.Labels", labels);
        if (target.size() <= 0) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "Target.Size must be greater than zero");
        }
        if (target.mediaType().isEmpty()) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "Target.MediaType must be set");
        }
    }

    private static void putOrRemove(Map<String, String> map, String key, String value) {
        if (value == null || value.isEmpty()) {
            map.remove(key);
        } else {
            map.put(key, value);
        }
    }

    private static ImageRecord toRecord(String namespace, String name, Map<String, String> labels, Descriptor target,
            Instant createdAt, Instant updatedAt) {
        Map<String, String> keptLabels = new TreeMap<>(labels);
        keptLabels.values().removeIf(String::isEmpty);
        Map<String, String> keptAnnotations = new TreeMap<>(target.annotations());
        keptAnnotations.values().removeIf(String::isEmpty);
        return new ImageRecord(namespace, name, keptLabels, target.mediaType(), target.digest().toString(),
                target.size(), keptAnnotations, createdAt, updatedAt);
    }

    private static Image toImage(ImageRecord record) {
        Descriptor target = new Descriptor(record.mediaType(), Digest.parse(record.digest()), record.size(),
                record.annotations());
        return new Image(record.name(), record.labels(), target, record.createdAt(), record.updatedAt());
    }
}
