package dev.berth.plugins.differ;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Resolves archive paths inside a root the way the container will see them, after continuity's
 * {@code fs.RootPath}: every symlink met on the way is followed with the root standing for
 * {@code /}, so an absolute target such as {@code /usr/lib} lands in {@code <root>/usr/lib}.
 * Unlike continuity, which clamps a climb above the root back to it, a name or a symlink that
 * climbs above the root is refused: no honest layer needs it, and refusing makes the attempt visible.
 */
final class RootPath {

    private static final int MAX_LINKS = 255;

    private RootPath() {}

    /**
     * The components of an archive name, cleaned of {@code .}, empty parts and inner {@code ..}.
     * An empty list is the root itself.
     *
     * @throws dev.berth.plugin.InvalidArgumentException if the name is absolute or climbs above the root
     */
    static List<String> clean(String name, String entry) {
        if (name.startsWith("/")) {
            throw TarReader.invalid(entry, "absolute path \"" + name + "\" is not allowed");
        }
        if (name.indexOf('\0') >= 0) {
            throw TarReader.invalid(entry, "path contains NUL");
        }
        List<String> parts = new ArrayList<>();
        for (String part : name.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (parts.isEmpty()) {
                    throw TarReader.invalid(entry, "path \"" + name + "\" escapes the root");
                }
                parts.removeLast();
            } else {
                parts.add(part);
            }
        }
        return parts;
    }

    /**
     * The real location of {@code components} under {@code root}, following every symlink met
     * inside the root; components that do not exist yet are appended as they are. The last
     * component is resolved too: callers that must not follow it pass only the parent's.
     *
     * @throws dev.berth.plugin.InvalidArgumentException if a symlink leads above the root or loops
     */
    static Path resolve(Path root, List<String> components, String entry) throws IOException {
        Deque<String> pending = new ArrayDeque<>(components);
        List<String> resolved = new ArrayList<>();
        Path current = root;
        int links = 0;
        boolean exists = true;
        while (!pending.isEmpty()) {
            String part = pending.removeFirst();
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (resolved.isEmpty()) {
                    throw TarReader.invalid(entry, "a symlink on its path leads out of the root");
                }
                resolved.removeLast();
                current = current.getParent();
                exists = true;
                continue;
            }
            Path next = current.resolve(part);
            if (exists) {
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(next, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException e) {
                    attributes = null;
                    exists = false;
                }
                if (attributes != null && attributes.isSymbolicLink()) {
                    if (++links > MAX_LINKS) {
                        throw TarReader.invalid(entry, "too many levels of symbolic links");
                    }
                    String target = Files.readSymbolicLink(next).toString();
                    if (target.startsWith("/")) {
                        resolved.clear();
                        current = root;
                    }
                    String[] targetParts = target.split("/");
                    for (int i = targetParts.length - 1; i >= 0; i--) {
                        pending.addFirst(targetParts[i]);
                    }
                    continue;
                }
            }
            resolved.add(part);
            current = next;
        }
        return current;
    }
}
