package dev.berth.plugins.grpc.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.berth.api.Timestamps;
import dev.berth.api.events.ContainerCreate;
import dev.berth.api.events.ContainerUpdate;
import dev.berth.api.events.NamespaceCreate;
import dev.berth.api.events.NamespaceDelete;
import dev.berth.api.events.TaskExit;
import dev.berth.api.services.events.v1.Envelope;
import dev.berth.api.services.events.v1.EventsGrpc;
import dev.berth.api.services.events.v1.ForwardRequest;
import dev.berth.api.services.events.v1.PublishRequest;
import dev.berth.api.services.events.v1.SubscribeRequest;
import dev.berth.api.services.namespaces.v1.CreateNamespaceRequest;
import dev.berth.api.services.namespaces.v1.DeleteNamespaceRequest;
import dev.berth.api.services.namespaces.v1.Namespace;
import dev.berth.api.services.namespaces.v1.NamespacesGrpc;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventsServiceTest {
    private static final String PROBE = "/probe";
    private static final String PROBE_FILTER = "topic==\"" + PROBE + "\"";
    @TempDir
    Path dir;
    private Fixture fixture;

    @BeforeEach
    void start() throws Exception {
        fixture = new Fixture(dir);
    }

    @AfterEach
    void stop() throws Exception {
        fixture.close();
    }

    /** Subscribes through the service; events arrive in the returned queue until the context is cancelled. */
    private BlockingQueue<Object> subscribe(Context.CancellableContext context, String... filters) throws Exception {
        BlockingQueue<Object> received = new LinkedBlockingQueue<>();
        CountDownLatch probed = new CountDownLatch(1);
        context.run(() -> EventsGrpc.newStub(fixture.channel).subscribe(
                SubscribeRequest.newBuilder().addAllFilters(java.util.List.of(filters)).addFilters(PROBE_FILTER).build(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(Envelope envelope) {
                        if (!envelope.getTopic().equals(PROBE)) {
                            received.add(envelope);
                        } else {
                            probed.countDown();
                        }
                    }

                    @Override
                    public void onError(Throwable error) {
                        received.add(error);
                    }

                    @Override
                    public void onCompleted() {
                        received.add("completed");
                    }
                }));
        // the subscription exists once a probe, which its extra filter lets through, arrives
        var publisher = Fixture.in(EventsGrpc.newBlockingStub(fixture.channel), "probe");
        for (int i = 0; i < 100 && probed.getCount() > 0; i++) {
            publisher.publish(PublishRequest.newBuilder().setTopic(PROBE).setEvent(Any.newBuilder().setTypeUrl("probe")).build());
            probed.await(50, TimeUnit.MILLISECONDS);
        }
        assertEquals(0, probed.getCount(), "the subscription never started");
        return received;
    }

    @Test
    void namespaceEventsReachASubscriberAsContainerdEncodesThem() throws Exception {
        try (Context.CancellableContext context = Context.current().withCancellation()) {
            BlockingQueue<Object> events = subscribe(context, "topic~=\"^/namespaces/\"");
            var namespaces = Fixture.in(NamespacesGrpc.newBlockingStub(fixture.channel), "default");
            namespaces.create(CreateNamespaceRequest.newBuilder()
                    .setNamespace(Namespace.newBuilder().setName("fresh").putLabels("k", "v")).build());
            namespaces.delete(DeleteNamespaceRequest.newBuilder().setName("fresh").build());

            Envelope create = (Envelope) events.poll(5, TimeUnit.SECONDS);
            assertEquals("default", create.getNamespace());
            assertEquals("/namespaces/create", create.getTopic());
            assertTrue(create.getTimestamp().getSeconds() > 0);
            assertEquals("containerd.events.NamespaceCreate", create.getEvent().getTypeUrl());
            assertEquals(NamespaceCreate.newBuilder().setName("fresh").putLabels("k", "v").build(),
                    NamespaceCreate.parseFrom(create.getEvent().getValue()));
            Envelope delete = (Envelope) events.poll(5, TimeUnit.SECONDS);
            assertEquals("fresh", delete.getNamespace());
            assertEquals("containerd.events.NamespaceDelete", delete.getEvent().getTypeUrl());
            assertEquals(NamespaceDelete.newBuilder().setName("fresh").build(), NamespaceDelete.parseFrom(delete.getEvent().getValue()));
            assertEquals(null, events.poll(100, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void publishedAndForwardedEventsPassThroughUnchanged() throws Exception {
        try (Context.CancellableContext context = Context.current().withCancellation()) {
            BlockingQueue<Object> events = subscribe(context, "namespace==tenant");
            Any payload = Any.newBuilder().setTypeUrl("example.Custom").setValue(ByteString.copyFromUtf8("payload")).build();
            Fixture.in(EventsGrpc.newBlockingStub(fixture.channel), "tenant")
                    .publish(PublishRequest.newBuilder().setTopic("/custom/thing").setEvent(payload).build());
            Envelope forwarded = Envelope.newBuilder().setNamespace("tenant").setTopic("/tasks/oom")
                    .setTimestamp(Timestamps.timestamp(java.time.Instant.parse("2001-02-03T04:05:06Z"))).setEvent(payload).build();
            EventsGrpc.newBlockingStub(fixture.channel).forward(ForwardRequest.newBuilder().setEnvelope(forwarded).build());

            Envelope published = (Envelope) events.poll(5, TimeUnit.SECONDS);
            assertEquals("/custom/thing", published.getTopic());
            assertEquals(payload, published.getEvent());
            assertEquals(forwarded, events.poll(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void filtersReadTheFieldsOfContainerdsEventTypesAsContainerdDoes() throws Exception {
        try (Context.CancellableContext context = Context.current().withCancellation()) {
            BlockingQueue<Object> events = subscribe(context,
                    "event.container_id==a",
                    "event.runtime.name==io.containerd.runc.v2,event.id==c1",
                    "event.labels.\"team\"==blue",
                    "event.name==fresh",
                    "event.exit_status==0");
            Envelope exitA = forward("/tasks/exit", TaskExit.newBuilder().setContainerId("a").setId("a").setExitStatus(0).build());
            forward("/tasks/exit", TaskExit.newBuilder().setContainerId("b").setId("b").build());
            Envelope createC1 = forward("/containers/create", ContainerCreate.newBuilder().setId("c1")
                    .setRuntime(ContainerCreate.Runtime.newBuilder().setName("io.containerd.runc.v2")).build());
            forward("/containers/create", ContainerCreate.newBuilder().setId("c2")
                    .setRuntime(ContainerCreate.Runtime.newBuilder().setName("io.containerd.runc.v2")).build());
            forward("/containers/create", ContainerCreate.newBuilder().setId("c1").build());
            Envelope updateBlue = forward("/containers/update", ContainerUpdate.newBuilder().setId("u").putLabels("team", "blue").build());
            forward("/containers/update", ContainerUpdate.newBuilder().setId("u").putLabels("team", "red").build());
            // a type the daemon does not know has no fields, whatever its bytes
            forward("/custom/thing", Any.newBuilder().setTypeUrl("example.Custom")
                    .setValue(TaskExit.newBuilder().setContainerId("a").build().toByteString()).build());
            var namespaces = Fixture.in(NamespacesGrpc.newBlockingStub(fixture.channel), "default");
            namespaces.create(CreateNamespaceRequest.newBuilder().setNamespace(Namespace.newBuilder().setName("fresh")).build());
            namespaces.create(CreateNamespaceRequest.newBuilder().setNamespace(Namespace.newBuilder().setName("stale")).build());

            assertEquals(exitA, events.poll(5, TimeUnit.SECONDS));
            assertEquals(createC1, events.poll(5, TimeUnit.SECONDS));
            assertEquals(updateBlue, events.poll(5, TimeUnit.SECONDS));
            Envelope fresh = (Envelope) events.poll(5, TimeUnit.SECONDS);
            assertEquals("/namespaces/create", fresh.getTopic());
            assertEquals("fresh", NamespaceCreate.parseFrom(fresh.getEvent().getValue()).getName());
            assertEquals(null, events.poll(100, TimeUnit.MILLISECONDS));
        }
    }

    /** Forwards {@code payload} as a shim does, in namespace {@code ns}, and returns the envelope sent. */
    private Envelope forward(String topic, Message payload) {
        return forward(topic, Any.newBuilder().setTypeUrl("containerd.events." + payload.getDescriptorForType().getName())
                .setValue(payload.toByteString()).build());
    }

    private Envelope forward(String topic, Any payload) {
        Envelope envelope = Envelope.newBuilder().setNamespace("ns").setTopic(topic)
                .setTimestamp(Timestamps.timestamp(java.time.Instant.parse("2001-02-03T04:05:06Z"))).setEvent(payload).build();
        EventsGrpc.newBlockingStub(fixture.channel).forward(ForwardRequest.newBuilder().setEnvelope(envelope).build());
        return envelope;
    }

    @Test
    void invalidTopicsAndFiltersAreRefused() throws Exception {
        var publisher = Fixture.in(EventsGrpc.newBlockingStub(fixture.channel), "ns");
        assertEquals(Status.Code.INVALID_ARGUMENT, NamespacesServiceTest.code(() -> publisher.publish(
                PublishRequest.newBuilder().setTopic("no-slash").build())));
        assertEquals(Status.Code.FAILED_PRECONDITION, NamespacesServiceTest.code(() -> EventsGrpc.newBlockingStub(fixture.channel)
                .publish(PublishRequest.newBuilder().setTopic("/a").build())));
        var stream = EventsGrpc.newBlockingStub(fixture.channel).subscribe(SubscribeRequest.newBuilder().addFilters("topic==").build());
        assertEquals(Status.Code.INVALID_ARGUMENT, org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                stream::hasNext).getStatus().getCode());
    }
}
