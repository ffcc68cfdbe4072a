package dev.berth.plugins.grpc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;
import java.util.regex.Pattern;

/** The daemon's identity across restarts: a random UUID kept in a file, as containerd keeps it. */
final class ServerUuid {
    private static final Pattern CANONICAL = Pattern.compile("[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}");

    private ServerUuid() {}

    /**
     * The UUID stored in {@code file}, created on first use.
     *
     * @throws IOException when the file cannot be read or written, or holds something else than a UUID
     */
    static String loadOrCreate(Path file) throws IOException {
        if (Files.exists(file)) {
            // strip: a hand-edited file may end with a newline; containerd would then refuse it
            String uuid = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (!CANONICAL.matcher(uuid).matches()) {
                throw new IOException(file + ": not a UUID: '" + uuid + "'");
            }
            return uuid;
        }
        String uuid = UUID.randomUUID().toString();
        Files.createDirectories(file.getParent());
        // written aside and moved, so that a crash never leaves a half-written identity behind
        Path temp = Files.createTempFile(file.getParent(), "uuid", ".tmp");
        try {
            Files.writeString(temp, uuid, StandardCharsets.UTF_8);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
        }
        return uuid;
    }
}
