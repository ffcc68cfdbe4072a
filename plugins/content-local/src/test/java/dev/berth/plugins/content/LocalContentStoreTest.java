package dev.berth.plugins.content;

import dev.berth.plugin.content.ContentStore;
import dev.berth.tck.content.ContentStoreSuite;
import java.nio.file.Path;
import java.time.Clock;

class LocalContentStoreTest extends ContentStoreSuite {
    @Override
    protected ContentStore newStore(Path root, Clock clock) throws Exception {
        return LocalContentStore.open(root, clock);
    }
}
