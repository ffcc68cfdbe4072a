package dev.berth.plugin;

import java.util.regex.Pattern;

/** Syntax of plugin type URIs and ids. */
final class Names {
    private static final Pattern TYPE = Pattern.compile("[a-z0-9][a-z0-9_-]*(\\.[a-z0-9][a-z0-9_-]*)+");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");

    private Names() {}

    static boolean isValidType(String type) {
        return TYPE.matcher(type).matches();
    }

    static boolean isValidId(String id) {
        return ID.matcher(id).matches();
    }
}
