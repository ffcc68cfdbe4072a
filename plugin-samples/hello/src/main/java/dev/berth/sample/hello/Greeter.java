package dev.berth.sample.hello;

import static java.util.Objects.requireNonNull;

import java.util.function.Function;

/** Greets a name by filling in a template. */
record Greeter(String template) implements Function<String, String> {
    static final String NAME = "{name}";

    Greeter {
        requireNonNull(template, "template is null");
    }

    @Override
    public String apply(String name) {
        return template.replace(NAME, requireNonNull(name, "name is null"));
    }
}
