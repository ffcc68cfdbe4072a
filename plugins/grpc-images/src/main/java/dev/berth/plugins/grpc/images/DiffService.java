package dev.berth.plugins.grpc.images;

import dev.berth.api.Calls;
import dev.berth.api.Headers;
import dev.berth.api.services.diff.v1.ApplyRequest;
import dev.berth.api.services.diff.v1.ApplyResponse;
import dev.berth.api.services.diff.v1.DiffGrpc;
import dev.berth.api.services.diff.v1.DiffRequest;
import dev.berth.api.services.diff.v1.DiffResponse;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.UnimplementedException;
import dev.berth.plugin.content.Descriptor;
import dev.berth.plugin.diff.ApplyOptions;
import dev.berth.plugin.diff.CompareOptions;
import dev.berth.plugin.diff.Differ;
import dev.berth.plugin.mount.Mount;
import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * {@code containerd.services.diff.v1.Diff} over the differs in order of preference: each call goes
 * to the first differ that does not answer "unimplemented" (e.g. for a media type it does not
 * handle), as containerd's diff service does. Layers are read from and written to the content of
 * the {@code containerd-namespace} header's namespace, new ones under its {@code containerd-lease}.
 */
final class DiffService implements DiffGrpc.AsyncService, BindableService {
    private final List<Differ> differs;

    DiffService(List<Differ> differs) {
        this.differs = List.copyOf(differs);
        if (this.differs.isEmpty()) {
            throw new IllegalArgumentException("no differs");
        }
    }

    @Override
    public ServerServiceDefinition bindService() {
        return ServerInterceptors.intercept(DiffGrpc.bindService(this), Headers.INSTANCE);
    }

    /**
     * Applies a layer onto mounts. The request's payloads configure stream processors in
     * containerd, which Berth has none of; they are not read.
     */
    @Override
    public void apply(ApplyRequest request, StreamObserver<ApplyResponse> observer) {
        Calls.reply(observer, () -> {
            ApplyOptions options = new ApplyOptions(Headers.namespace());
            Descriptor layer = Protos.descriptor(request.getDiff(), "Diff");
            List<Mount> mounts = Protos.mounts(request.getMountsList());
            Descriptor applied = first(differ -> differ.apply(layer, mounts, options));
            return ApplyResponse.newBuilder().setApplied(Protos.toProto(applied)).build();
        });
    }

    @Override
    public void diff(DiffRequest request, StreamObserver<DiffResponse> observer) {
        Calls.reply(observer, () -> {
            CompareOptions options = new CompareOptions(Headers.namespace(), Headers.lease(),
                    nonEmpty(request.getMediaType()), nonEmpty(request.getRef()), request.getLabelsMap());
            List<Mount> left = Protos.mounts(request.getLeftList());
            List<Mount> right = Protos.mounts(request.getRightList());
            Descriptor diff = first(differ -> differ.compare(left, right, options));
            return DiffResponse.newBuilder().setDiff(Protos.toProto(diff)).build();
        });
    }

    private Descriptor first(Function<Differ, Descriptor> call) {
        UnimplementedException last = null;
        for (Differ differ : differs) {
            try {
                return call.apply(differ);
            } catch (UnimplementedException e) {
                last = e;
            }
        }
        throw last;
    }

    private static Optional<String> nonEmpty(String value) {
        return value.isEmpty() ? Optional.empty() : Optional.of(value);
    }
}
