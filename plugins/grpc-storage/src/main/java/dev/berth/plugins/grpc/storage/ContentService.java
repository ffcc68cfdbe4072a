package dev.berth.plugins.grpc.storage;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Empty;
import dev.berth.api.Calls;
import dev.berth.api.Errors;
import dev.berth.api.Headers;
import dev.berth.api.NonBlockingService;
import dev.berth.api.Timestamps;
import dev.berth.api.filters.Adaptor;
import dev.berth.api.filters.Filter;
import dev.berth.api.services.content.v1.AbortRequest;
import dev.berth.api.services.content.v1.ContentGrpc;
import dev.berth.api.services.content.v1.DeleteContentRequest;
import dev.berth.api.services.content.v1.Info;
import dev.berth.api.services.content.v1.InfoRequest;
import dev.berth.api.services.content.v1.InfoResponse;
import dev.berth.api.services.content.v1.ListContentRequest;
import dev.berth.api.services.content.v1.ListContentResponse;
import dev.berth.api.services.content.v1.ListStatusesRequest;
import dev.berth.api.services.content.v1.ListStatusesResponse;
import dev.berth.api.services.content.v1.ReadContentRequest;
import dev.berth.api.services.content.v1.ReadContentResponse;
import dev.berth.api.services.content.v1.StatusRequest;
import dev.berth.api.services.content.v1.StatusResponse;
import dev.berth.api.services.content.v1.UpdateRequest;
import dev.berth.api.services.content.v1.UpdateResponse;
import dev.berth.api.services.content.v1.WriteContentRequest;
import dev.berth.api.services.content.v1.WriteContentResponse;
import dev.berth.plugin.content.ContentInfo;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.content.IngestStatus;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Publisher;
import dev.berth.plugin.metadata.MetadataStore;
import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * {@code containerd.services.content.v1.Content} over the caller's namespace of the metadata store,
 * with the lease of the {@code containerd-lease} header; deletes publish {@code /content/delete}.
 */
final class ContentService implements ContentGrpc.AsyncService, BindableService, NonBlockingService {
    /** Infos per {@code List} response, as containerd. */
    static final int LIST_BLOCK = 100;
    /** Info, List and Read only look up metadata and read local blobs; long reads hand off to a worker. */
    private static final Set<String> NON_BLOCKING = Set.of(
            ContentGrpc.getInfoMethod().getFullMethodName(),
            ContentGrpc.getListMethod().getFullMethodName(),
            ContentGrpc.getReadMethod().getFullMethodName());
    /** Pumps the reads longer than one chunk. */
    private static final Executor READ_WORKER = task -> Thread.ofVirtual().name("content-read").start(task);

    private final MetadataStore metadata;
    private final Publisher publisher;

    ContentService(MetadataStore metadata, Publisher publisher) {
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.publisher = requireNonNull(publisher, "publisher is null");
    }

    @Override
    public ServerServiceDefinition bindService() {
        return ServerInterceptors.intercept(ContentGrpc.bindService(this), Headers.INSTANCE);
    }

    @Override
    public Set<String> nonBlockingMethods() {
        return NON_BLOCKING;
    }

    /** The caller's view: its namespace, and its lease if it names one. */
    private ContentStore content() {
        return metadata.content(Headers.namespace(), Headers.lease());
    }

    @Override
    public void info(InfoRequest request, StreamObserver<InfoResponse> observer) {
        Calls.reply(observer, () -> InfoResponse.newBuilder()
                .setInfo(toProto(content().info(Digest.parse(request.getDigest()))))
                .build());
    }

    @Override
    public void update(UpdateRequest request, StreamObserver<UpdateResponse> observer) {
        Calls.reply(observer, () -> {
            Info info = request.getInfo();
            Digest digest = Digest.parse(info.getDigest());
            Instant now = Instant.now();
            // only the digest and labels matter to an update; the other fields are placeholders
            ContentInfo wanted = new ContentInfo(digest, 0, now, now, info.getLabelsMap());
            ContentInfo updated = content().update(wanted, request.getUpdateMask().getPathsList());
            return UpdateResponse.newBuilder().setInfo(toProto(updated)).build();
        });
    }

    @Override
    public void list(ListContentRequest request, StreamObserver<ListContentResponse> observer) {
        try {
            ContentStore content = content();
            Filter filter = Filter.parseAll(request.getFiltersList());
            List<Info> block = new ArrayList<>(LIST_BLOCK);
            content.walk(info -> filter.matches(adaptor(info)), info -> {
                // containerd lists without updated_at
                block.add(Info.newBuilder()
                        .setDigest(info.digest().toString())
                        .setSize(info.size())
                        .setCreatedAt(Timestamps.timestamp(info.createdAt()))
                        .putAllLabels(info.labels())
                        .build());
                if (block.size() == LIST_BLOCK) {
                    observer.onNext(ListContentResponse.newBuilder().addAllInfo(block).build());
                    block.clear();
                }
            });
            if (!block.isEmpty()) {
                observer.onNext(ListContentResponse.newBuilder().addAllInfo(block).build());
            }
        } catch (RuntimeException e) {
            observer.onError(Errors.toStatus(e));
            return;
        }
        observer.onCompleted();
    }

    @Override
    public void delete(DeleteContentRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            String namespace = Headers.namespace();
            Digest digest = Digest.parse(request.getDigest());
            content().delete(digest);
            publisher.publish(namespace, EventTypes.CONTENT_DELETE, new Event.ContentDelete(digest));
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void read(ReadContentRequest request, StreamObserver<ReadContentResponse> observer) {
        ReadPump pump;
        try {
            pump = ReadPump.open(content(), Digest.parse(request.getDigest()), request.getOffset(), request.getSize(),
                    (ServerCallStreamObserver<ReadContentResponse>) observer);
        } catch (RuntimeException e) {
            observer.onError(Errors.toStatus(e));
            return;
        }
        pump.start(READ_WORKER);
    }

    @Override
    public void status(StatusRequest request, StreamObserver<StatusResponse> observer) {
        Calls.reply(observer, () -> StatusResponse.newBuilder()
                .setStatus(toProto(content().status(request.getRef())))
                .build());
    }

    @Override
    public void listStatuses(ListStatusesRequest request, StreamObserver<ListStatusesResponse> observer) {
        Calls.reply(observer, () -> {
            ContentStore content = content();
            Filter filter = Filter.parseAll(request.getFiltersList());
            ListStatusesResponse.Builder response = ListStatusesResponse.newBuilder();
            // containerd filters ingests on their ref only
            for (IngestStatus status : content.listStatuses(s -> filter.matches(
                    path -> path.getFirst().equals("ref") ? Optional.of(s.ref()) : Optional.empty()))) {
                response.addStatuses(toProto(status));
            }
            return response.build();
        });
    }

    @Override
    public StreamObserver<WriteContentRequest> write(StreamObserver<WriteContentResponse> observer) {
        return new WriteSession(this::content, (ServerCallStreamObserver<WriteContentResponse>) observer);
    }

    @Override
    public void abort(AbortRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            content().abort(request.getRef());
            return Empty.getDefaultInstance();
        });
    }

    /** containerd filters content on {@code digest} and {@code labels.<key>}. */
    private static Adaptor adaptor(ContentInfo info) {
        return path -> switch (path.getFirst()) {
            case "digest" -> Optional.of(info.digest().toString());
            case "labels" -> Protos.labels(info.labels(), path.subList(1, path.size()));
            default -> Optional.empty();
        };
    }

    private static Info toProto(ContentInfo info) {
        return Info.newBuilder()
                .setDigest(info.digest().toString())
                .setSize(info.size())
                .setCreatedAt(Timestamps.timestamp(info.createdAt()))
                .setUpdatedAt(Timestamps.timestamp(info.updatedAt()))
                .putAllLabels(info.labels())
                .build();
    }

    private static dev.berth.api.services.content.v1.Status toProto(IngestStatus status) {
        return dev.berth.api.services.content.v1.Status.newBuilder()
                .setRef(status.ref())
                .setOffset(status.offset())
                .setTotal(status.total())
                .setExpected(status.expected().map(Digest::toString).orElse(""))
                .setStartedAt(Timestamps.timestamp(status.startedAt()))
                .setUpdatedAt(Timestamps.timestamp(status.updatedAt()))
                .build();
    }
}
