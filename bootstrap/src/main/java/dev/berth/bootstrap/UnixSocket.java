package dev.berth.bootstrap;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** The socket file the daemon serves on: claimed before start, restricted after bind, removed at exit. */
final class UnixSocket {
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private UnixSocket() {}

    /** Another process accepts connections on the socket the daemon was to serve on. */
    static final class InUseException extends IOException {
        InUseException(String message) {
            super(message);
        }
    }

    /**
     * Makes {@code socket} free to bind: creates its parent directory and removes a stale socket file left
     * by a daemon that did not exit cleanly.
     *
     * @throws InUseException if something answers on the socket, e.g. another daemon still running
     * @throws IOException    if the path exists and is not a socket, or cannot be removed
     */
    static void claim(Path socket) throws IOException {
        Files.createDirectories(socket.toAbsolutePath().getParent());
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new IOException(socket + " exists and is not a socket; refusing to replace it");
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            throw new InUseException("another process is serving " + socket
                    + " (is berthd already running?); stop it or choose another --address");
        } catch (ConnectException e) {
            // Nobody listens: the file outlived its daemon.
            Files.delete(socket);
        }
    }

    /** Gives the socket mode 0660 and, when not -1, the configured owner and group. */
    static void restrict(Path socket, int uid, int gid) throws IOException {
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
        if (uid != -1) {
            Files.setAttribute(socket, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        }
        if (gid != -1) {
            Files.setAttribute(socket, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        }
    }
}
