package dev.berth.plugins.metadata;

import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.metadata.Labels;
import dev.berth.plugin.mount.Mount;
import dev.berth.plugin.snapshots.SnapshotInfo;
import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.plugin.snapshots.Usage;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A namespace's view of a backend snapshotter, over a real LMDB store, that owns everything it
 * opened: what the snapshotter conformance suite needs to check the view, restart included.
 */
final class NamespacedConformance implements Snapshotter {
    private final Snapshotter backend;
    private final LmdbMetadataStore store;
    private final Snapshotter view;
    private boolean closed;

    NamespacedConformance(Path root, String name, Snapshotter backend) throws Exception {
        this.backend = backend;
        ContentStore content = Fixture.contentStore(root.resolve("content"));
        this.store = LmdbMetadataStore.open(root.resolve("metadata"), content, Map.of(name, backend), Clock.systemUTC());
        // another namespace using the suite's keys must not disturb the namespace under test
        Snapshotter other = store.snapshotter("other", name, Optional.empty());
        List<String> existing = new ArrayList<>();
        other.walk(info -> true, info -> existing.add(info.name()));
        if (existing.isEmpty()) {
            other.prepare("a", "", Map.of(Labels.GC_ROOT, "other"));
            other.commit("c", "a", Map.of(Labels.GC_ROOT, "other"));
            other.prepare("a", "c", Map.of(Labels.GC_ROOT, "other"));
        }
        this.view = store.snapshotter("suite", name, Optional.empty());
    }

    @Override
    public SnapshotInfo stat(String key) {
        return view.stat(key);
    }

    @Override
    public SnapshotInfo update(SnapshotInfo info, List<String> fieldPaths) {
        return view.update(info, fieldPaths);
    }

    @Override
    public Usage usage(String key) {
        return view.usage(key);
    }

    @Override
    public List<Mount> mounts(String key) {
        return view.mounts(key);
    }

    @Override
    public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
        return view.prepare(key, parent, labels);
    }

    @Override
    public List<Mount> view(String key, String parent, Map<String, String> labels) {
        return view.view(key, parent, labels);
    }

    @Override
    public void commit(String name, String key, Map<String, String> labels) {
        view.commit(name, key, labels);
    }

    @Override
    public void remove(String key) {
        view.remove(key);
    }

    @Override
    public void walk(Predicate<? super SnapshotInfo> filter, Consumer<? super SnapshotInfo> consumer) {
        view.walk(filter, consumer);
    }

    @Override
    public synchronized void close() {
        view.close();
        if (!closed) {
            closed = true;
            store.close();
            backend.close();
        }
    }
}
