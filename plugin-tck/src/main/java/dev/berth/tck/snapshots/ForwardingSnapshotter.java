package dev.berth.tck.snapshots;

import dev.berth.plugin.mount.Mount;
import dev.berth.plugin.snapshots.SnapshotInfo;
import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.plugin.snapshots.Usage;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A snapshotter that passes every call to another: a test overrides the calls it watches or
 * changes, and inherits the rest.
 */
public abstract class ForwardingSnapshotter implements Snapshotter {

    /** The snapshotter every call goes to. */
    protected abstract Snapshotter delegate();

    @Override
    public SnapshotInfo stat(String key) {
        return delegate().stat(key);
    }

    @Override
    public SnapshotInfo update(SnapshotInfo info, List<String> fieldPaths) {
        return delegate().update(info, fieldPaths);
    }

    @Override
    public Usage usage(String key) {
        return delegate().usage(key);
    }

    @Override
    public List<Mount> mounts(String key) {
        return delegate().mounts(key);
    }

    @Override
    public boolean nonBlockingReads() {
        return delegate().nonBlockingReads();
    }

    @Override
    public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
        return delegate().prepare(key, parent, labels);
    }

    @Override
    public List<Mount> view(String key, String parent, Map<String, String> labels) {
        return delegate().view(key, parent, labels);
    }

    @Override
    public void commit(String name, String key, Map<String, String> labels) {
        delegate().commit(name, key, labels);
    }

    @Override
    public void remove(String key) {
        delegate().remove(key);
    }

    @Override
    public void walk(Predicate<? super SnapshotInfo> filter, Consumer<? super SnapshotInfo> consumer) {
        delegate().walk(filter, consumer);
    }

    @Override
    public void close() {
        delegate().close();
    }
}
