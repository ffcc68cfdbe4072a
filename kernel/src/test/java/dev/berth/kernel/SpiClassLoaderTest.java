package dev.berth.kernel;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What a plugin jar shares with the daemon; the kernel's own isolation is in {@code KernelTest}. */
class SpiClassLoaderTest {
    @Test
    void jarsShareTheSpiLoggingAndWhatAGrpcServiceNeeds() {
        for (String name : new String[] {"dev.berth.plugin.Registration", "org.slf4j.Logger",
                "dev.berth.api.GrpcServices", "dev.berth.api.services.content.v1.Info", "io.grpc.BindableService",
                "io.grpc.stub.StreamObserver", "io.grpc.protobuf.ProtoUtils", "com.google.protobuf.Message"}) {
            assertTrue(SpiClassLoader.isShared(name), name);
        }
    }

    @Test
    void jarsShareNeitherTheDaemonsInsidesNorGrpcsTransport() {
        for (String name : new String[] {"dev.berth.kernel.Kernel", "dev.berth.bootstrap.Berthd",
                "dev.berth.plugins.metadata.Db", "com.typesafe.config.Config", "com.google.common.collect.ImmutableList",
                "io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder", "io.grpc.netty.NettyServerBuilder",
                "dev.berth.apiary.Thing", "io.grpcx.Thing"}) {
            assertFalse(SpiClassLoader.isShared(name), name);
        }
    }
}
