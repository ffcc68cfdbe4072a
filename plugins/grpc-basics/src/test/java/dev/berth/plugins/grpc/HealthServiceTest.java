package dev.berth.plugins.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import org.junit.jupiter.api.Test;

class HealthServiceTest {

    @Test
    void servesUntilClosed() throws Exception {
        HealthService health = new HealthService();
        try (InProcess grpc = new InProcess(health)) {
            var stub = HealthGrpc.newBlockingStub(grpc.channel());
            HealthCheckRequest daemon = HealthCheckRequest.getDefaultInstance();
            assertEquals(ServingStatus.SERVING, stub.check(daemon).getStatus());

            health.close();
            assertEquals(ServingStatus.NOT_SERVING, stub.check(daemon).getStatus());
        }
    }
}
