package dev.berth.sample.hello;

import static java.util.Objects.requireNonNull;

/**
 * The section {@code plugins."io.berth.sample.v1.hello"}; defaults and documentation are in this
 * jar's {@code reference.conf}.
 *
 * @param greeting the greeting template, with {@code {name}} standing for whom is greeted
 */
public record HelloConfig(String greeting) {
    public HelloConfig {
        requireNonNull(greeting, "greeting is null");
    }
}
