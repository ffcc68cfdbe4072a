package dev.berth.plugin;

/**
 * Thrown by an initializer to be skipped rather than failed: the plugin cannot run here (e.g. the
 * kernel lacks overlay support) and that is not an error. Its dependents are not initialised.
 */
public final class SkipPluginException extends Exception {
    public SkipPluginException(String reason) {
        super(reason, null, false, false);
    }
}
