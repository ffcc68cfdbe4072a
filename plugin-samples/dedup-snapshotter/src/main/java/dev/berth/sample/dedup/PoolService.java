package dev.berth.sample.dedup;

import static java.util.Objects.requireNonNull;

import dev.berth.api.Calls;
import dev.berth.sample.dedup.v1.PoolGrpc;
import dev.berth.sample.dedup.v1.StatsRequest;
import dev.berth.sample.dedup.v1.StatsResponse;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;

/**
 * {@code berth.samples.dedup.v1.Pool}: the pool's figures as they are now, where the snapshotter's
 * exports give them as found at start. Served by berthd on its socket like containerd's services.
 */
final class PoolService extends PoolGrpc.PoolImplBase {
    private final Path pool;

    /** {@code pool}: the directory of the snapshotter's pool. */
    PoolService(Path pool) {
        this.pool = requireNonNull(pool, "pool is null");
    }

    @Override
    public void stats(StatsRequest request, StreamObserver<StatsResponse> observer) {
        Calls.reply(observer, () -> {
            Pool.Stats stats = Pool.stats(pool);
            return StatsResponse.newBuilder()
                    .setFiles(stats.files())
                    .setBytes(stats.bytes())
                    .setSavedBytes(stats.savedBytes())
                    .build();
        });
    }
}
