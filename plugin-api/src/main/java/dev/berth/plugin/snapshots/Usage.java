package dev.berth.plugin.snapshots;

/**
 * The resources a snapshot uses on its own, not counting its parents.
 *
 * @param inodes the number of inodes (files, directories, links…; a hard-linked file counts once)
 * @param size   the bytes it holds
 */
public record Usage(long inodes, long size) {
    public static final Usage NONE = new Usage(0, 0);

    public Usage {
        if (inodes < 0 || size < 0) {
            throw new IllegalArgumentException("negative usage: " + inodes + " inodes, " + size + " bytes");
        }
    }

    public Usage plus(Usage other) {
        return new Usage(inodes + other.inodes, size + other.size);
    }
}
