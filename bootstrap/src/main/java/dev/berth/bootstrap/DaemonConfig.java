package dev.berth.bootstrap;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.List;

/**
 * The daemon's own configuration: the top level of the merged config, bound strictly (an unknown key is
 * an error). Each key is documented where its default lives, in this module's {@code reference.conf}.
 *
 * @param root            persistent state; each plugin gets a directory under it
 * @param state           runtime state, gone after a reboot; each plugin gets a directory under it
 * @param grpc            the gRPC server
 * @param ttrpc           the ttrpc server shims publish events to
 * @param logLevel        the root logger's level
 * @param pluginDirs      directories searched for plugin jars, watched while the daemon runs
 * @param disabledPlugins plugin URIs ({@code type.id}) that are not loaded at all
 * @param requiredPlugins plugin URIs that must start, or the daemon does not
 * @param plugins         every plugin's section, checked by the kernel against the plugin's own record
 */
public record DaemonConfig(
        Path root,
        Path state,
        Grpc grpc,
        Ttrpc ttrpc,
        LogLevel logLevel,
        List<Path> pluginDirs,
        List<String> disabledPlugins,
        List<String> requiredPlugins,
        Config plugins) {

    public DaemonConfig {
        requireNonNull(root, "root is null");
        requireNonNull(state, "state is null");
        requireNonNull(grpc, "grpc is null");
        requireNonNull(ttrpc, "ttrpc is null");
        requireNonNull(logLevel, "logLevel is null");
        requireNonNull(plugins, "plugins is null");
        pluginDirs = List.copyOf(pluginDirs);
        disabledPlugins = List.copyOf(disabledPlugins);
        requiredPlugins = List.copyOf(requiredPlugins);
    }

    /** Levels of the daemon's log, from the most to the least verbose. */
    public enum LogLevel { TRACE, DEBUG, INFO, WARN, ERROR }

    /**
     * @param address            the unix socket the gRPC API is served on
     * @param uid                owner given to the socket, or -1 to keep the daemon's
     * @param gid                group given to the socket, or -1 to keep the daemon's
     * @param maxRecvMessageSize largest request accepted, in bytes (at most 2 GiB - 1)
     * @param maxSendMessageSize largest response sent, in bytes (at most 2 GiB - 1)
     * @param warmUpConnections  connections the daemon makes to itself once it serves, to warm the transport
     *                           (see {@link dev.berth.bootstrap.h2.TransportWarmUp}); 0 for none
     */
    public record Grpc(String address, int uid, int gid, long maxRecvMessageSize, long maxSendMessageSize,
            int warmUpConnections) {
        public Grpc {
            requireNonNull(address, "address is null");
        }
    }

    /** @param address the unix socket of the ttrpc server */
    public record Ttrpc(String address) {
        public Ttrpc {
            requireNonNull(address, "address is null");
        }
    }
}
