package dev.berth.plugins.metadata;

import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.metadata.Labels;
import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.tck.snapshots.ForwardingSnapshotter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A namespace's view of a backend snapshotter, over a real LMDB store, that owns everything it
 * opened: what the snapshotter conformance suite needs to check the view, restart included.
 */
final class NamespacedConformance extends ForwardingSnapshotter {
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
    protected Snapshotter delegate() {
        return view;
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
