package dev.berth.plugins.grpc;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Empty;
import dev.berth.api.services.version.v1.VersionGrpc;
import dev.berth.api.services.version.v1.VersionResponse;
import io.grpc.stub.StreamObserver;

/** {@code containerd.services.version.v1.Version}: the daemon's version and source revision ({@code ctr version}). */
final class VersionService extends VersionGrpc.VersionImplBase {
    private final VersionResponse response;

    VersionService(String version, String revision) {
        this.response = VersionResponse.newBuilder()
                .setVersion(requireNonNull(version, "version is null"))
                .setRevision(requireNonNull(revision, "revision is null"))
                .build();
    }

    @Override
    public void version(Empty request, StreamObserver<VersionResponse> observer) {
        observer.onNext(response);
        observer.onCompleted();
    }
}
