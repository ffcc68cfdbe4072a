package dev.berth.plugins.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Empty;
import dev.berth.api.services.version.v1.VersionGrpc;
import dev.berth.api.services.version.v1.VersionResponse;
import org.junit.jupiter.api.Test;

class VersionServiceTest {

    @Test
    void reportsVersionAndRevision() throws Exception {
        try (InProcess grpc = new InProcess(new VersionService("0.1.0", "4f2e9a1"))) {
            VersionResponse response = VersionGrpc.newBlockingStub(grpc.channel()).version(Empty.getDefaultInstance());
            assertEquals("0.1.0", response.getVersion());
            assertEquals("4f2e9a1", response.getRevision());
        }
    }
}
