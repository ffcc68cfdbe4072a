package dev.berth.plugin.mount;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * How to mount one filesystem, as containerd's {@code types.Mount}: what a snapshotter returns and
 * what a differ or a runtime mounts with {@link Mounts#mount}.
 *
 * @param type    the filesystem type, e.g. {@code overlay}, or {@code bind} for a bind mount
 * @param source  what is mounted: a directory for a bind mount, a device, or a name such as {@code overlay}
 * @param options mount(8)-style options; flags such as {@code ro} or {@code rbind} and filesystem
 *                data such as {@code lowerdir=/a:/b}, in order (a later flag wins over an earlier one)
 */
public record Mount(String type, String source, List<String> options) {
    public Mount {
        requireNonNull(type, "type is null");
        requireNonNull(source, "source is null");
        options = List.copyOf(requireNonNull(options, "options is null"));
    }
}
