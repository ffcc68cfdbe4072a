package dev.berth.plugins.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Empty;
import com.google.rpc.Code;
import dev.berth.api.services.introspection.v1.IntrospectionGrpc;
import dev.berth.api.services.introspection.v1.Plugin;
import dev.berth.api.services.introspection.v1.PluginsRequest;
import dev.berth.api.types.Platform;
import dev.berth.plugin.PluginInfo;
import dev.berth.plugin.PluginStatus;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class IntrospectionServiceTest {
    static final String UUID = "0b5c8f9e-3d1a-4c2b-9f7e-1a2b3c4d5e6f";

    final List<PluginInfo> plugins = new CopyOnWriteArrayList<>();
    InProcess grpc;
    IntrospectionGrpc.IntrospectionBlockingStub stub;

    @BeforeEach
    void serve() throws Exception {
        plugins.add(info("io.containerd.content.v1", "content", PluginStatus.OK, Optional.empty()));
        plugins.add(new PluginInfo("io.containerd.snapshotter.v1", "overlayfs", List.of("io.containerd.content.v1"),
                PluginStatus.OK, Optional.empty(), Map.of("root", "/var/lib/berth/io.containerd.snapshotter.v1.overlayfs"),
                List.of("remap-ids"), List.of("linux/amd64", "linux/arm/v7"), PluginInfo.BUILT_IN));
        plugins.add(info("io.containerd.snapshotter.v1", "btrfs", PluginStatus.SKIP, Optional.of("/var/lib/berth is not on btrfs")));
        plugins.add(info("io.containerd.grpc.v1", "version", PluginStatus.OK, Optional.empty()));
        plugins.add(info("io.containerd.grpc.v1", "tasks", PluginStatus.ERROR, Optional.of("no runtime: not found")));
        grpc = new InProcess(new IntrospectionService(() -> List.copyOf(plugins), UUID));
        stub = IntrospectionGrpc.newBlockingStub(grpc.channel());
    }

    @AfterEach
    void stop() throws Exception {
        grpc.close();
    }

    static PluginInfo info(String type, String id, PluginStatus status, Optional<String> error) {
        return new PluginInfo(type, id, List.of(), status, error, Map.of(), List.of(), List.of(), PluginInfo.BUILT_IN);
    }

    List<String> ids(String... filters) {
        return stub.plugins(PluginsRequest.newBuilder().addAllFilters(List.of(filters)).build())
                .getPluginsList().stream().map(Plugin::getId).toList();
    }

    @Test
    void listsEveryPluginInOrder() {
        assertEquals(List.of("content", "overlayfs", "btrfs", "version", "tasks"), ids());
    }

    @Test
    void reportsWhatPluginsDeclared() {
        Plugin overlay = stub.plugins(PluginsRequest.newBuilder().addFilters("id==overlayfs").build()).getPlugins(0);
        assertEquals("io.containerd.snapshotter.v1", overlay.getType());
        assertEquals(List.of("io.containerd.content.v1"), overlay.getRequiresList());
        assertEquals(Map.of("root", "/var/lib/berth/io.containerd.snapshotter.v1.overlayfs"), overlay.getExportsMap());
        assertEquals(List.of("remap-ids"), overlay.getCapabilitiesList());
        assertEquals(List.of(
                Platform.newBuilder().setOs("linux").setArchitecture("amd64").build(),
                Platform.newBuilder().setOs("linux").setArchitecture("arm").setVariant("v7").build()),
                overlay.getPlatformsList());
        assertFalse(overlay.hasInitErr(), "an ok plugin has no init error, which ctr prints as ok");
    }

    @Test
    void skippedPluginsSaySkipPluginAsCtrExpects() {
        Plugin btrfs = stub.plugins(PluginsRequest.newBuilder().addFilters("id==btrfs").build()).getPlugins(0);
        assertEquals(Code.UNKNOWN_VALUE, btrfs.getInitErr().getCode());
        assertEquals("/var/lib/berth is not on btrfs: skip plugin", btrfs.getInitErr().getMessage());
    }

    @Test
    void failedPluginsCarryTheirErrorWithoutSkip() {
        Plugin tasks = stub.plugins(PluginsRequest.newBuilder().addFilters("id==tasks").build()).getPlugins(0);
        assertEquals(Code.UNKNOWN_VALUE, tasks.getInitErr().getCode());
        assertEquals("no runtime: not found", tasks.getInitErr().getMessage());
        assertFalse(tasks.getInitErr().getMessage().contains(IntrospectionService.SKIP_PLUGIN));
    }

    @Test
    void pendingAndClosedPluginsAreNotOk() {
        plugins.add(info("io.containerd.grpc.v1", "late", PluginStatus.PENDING, Optional.empty()));
        plugins.add(info("io.containerd.grpc.v1", "gone", PluginStatus.CLOSED, Optional.empty()));
        var listed = stub.plugins(PluginsRequest.newBuilder().addFilters("id~=^(late|gone)$").build()).getPluginsList();
        assertEquals(2, listed.size());
        for (Plugin plugin : listed) {
            assertTrue(plugin.hasInitErr(), plugin.getId());
            assertEquals(Code.UNAVAILABLE_VALUE, plugin.getInitErr().getCode());
            assertFalse(plugin.getInitErr().getMessage().contains(IntrospectionService.SKIP_PLUGIN));
        }
    }

    @Test
    void filtersAsCtrSendsThem() {
        assertEquals(List.of("version", "tasks"), ids("type==io.containerd.grpc.v1"));
        assertEquals(List.of("overlayfs", "btrfs"), ids("type~=snapshotter"));
        assertEquals(List.of("content", "version"), ids("id==content", "id==version"));
        assertEquals(List.of("content", "overlayfs", "btrfs", "version"), ids("id!=tasks"));
        assertEquals(List.of("tasks"), ids("type==io.containerd.grpc.v1,id!=version"));
    }

    @Test
    void platformsAndCapabilitiesAreNotFilterable() {
        // as in containerd, whose plugin adaptor knows only type and id
        assertEquals(List.of(), ids("capabilities==remap-ids"));
        assertEquals(List.of(), ids("platforms"));
    }

    @Test
    void aBadFilterIsAnInvalidArgument() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ids("type=="));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("filters: parse error: [type==]: expected value or quoted: invalid argument", e.getStatus().getDescription());
    }

    @Test
    void seesPluginsAddedLater() {
        plugins.add(info("io.containerd.grpc.v1", "hot", PluginStatus.OK, Optional.empty()));
        assertEquals(List.of("version", "tasks", "hot"), ids("type==io.containerd.grpc.v1"));
    }

    @Test
    void serverReportsTheUuid() {
        assertEquals(UUID, stub.server(Empty.getDefaultInstance()).getUuid());
    }
}
