package dev.berth.kernel;

import java.util.List;

/** A plugin listed in {@code required-plugins} did not end {@code ok}. */
public final class RequiredPluginException extends Exception {
    private final List<String> failures;

    RequiredPluginException(List<String> failures) {
        super(String.join("\n", failures));
        this.failures = List.copyOf(failures);
    }

    /** One line per required plugin that is not ok, naming the plugin and its cause. */
    public List<String> failures() {
        return failures;
    }
}
