package dev.berth.plugins.differ;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * One header of a tar archive, after PAX and GNU extensions were folded in.
 *
 * @param name     the entry's path as written in the archive (not yet cleaned)
 * @param type     what the entry is
 * @param mode     permission bits including setuid, setgid and sticky ({@code 07777})
 * @param uid      owner id
 * @param gid      group id
 * @param size     length of the entry's content in the archive
 * @param mtime    modification time
 * @param atime    access time, if the archive recorded one
 * @param linkName target of a symlink or hard link, empty otherwise
 * @param devMajor device major number (character and block devices)
 * @param devMinor device minor number
 * @param xattrs   extended attributes ({@code SCHILY.xattr.*} records), name to raw value
 */
record TarEntry(String name, Type type, int mode, long uid, long gid, long size, Instant mtime,
                Optional<Instant> atime, String linkName, int devMajor, int devMinor, Map<String, byte[]> xattrs) {

    TarEntry {
        requireNonNull(name, "name is null");
        requireNonNull(type, "type is null");
        requireNonNull(mtime, "mtime is null");
        requireNonNull(atime, "atime is null");
        requireNonNull(linkName, "linkName is null");
        xattrs = Map.copyOf(requireNonNull(xattrs, "xattrs is null"));
    }

    /** The entry kinds a layer may hold. */
    enum Type {
        REGULAR('0'), HARD_LINK('1'), SYMLINK('2'), CHAR_DEVICE('3'), BLOCK_DEVICE('4'), DIRECTORY('5'), FIFO('6');

        final char flag;

        Type(char flag) {
            this.flag = flag;
        }
    }
}
