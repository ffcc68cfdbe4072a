package dev.berth.api;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.metadata.Identifiers;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.Optional;

/**
 * The request headers containerd's clients send with every call, made available to the call's
 * code (also to the callbacks of its streams): {@code containerd-namespace}, which most services
 * require, and {@code containerd-lease}, which makes content written in the call part of a lease.
 */
public final class Headers implements ServerInterceptor {
    public static final Headers INSTANCE = new Headers();
    public static final Metadata.Key<String> NAMESPACE = Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<String> LEASE = Metadata.Key.of("containerd-lease", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<String> NAMESPACE_VALUE = Context.key("containerd-namespace");
    private static final Context.Key<String> LEASE_VALUE = Context.key("containerd-lease");

    private Headers() {}

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        Context context = Context.current()
                .withValue(NAMESPACE_VALUE, headers.get(NAMESPACE))
                .withValue(LEASE_VALUE, headers.get(LEASE));
        return Contexts.interceptCall(context, call, headers, next);
    }

    /**
     * The call's namespace, as containerd's {@code namespaces.NamespaceRequired}.
     *
     * @throws dev.berth.plugin.FailedPreconditionException if the header is missing or empty
     * @throws dev.berth.plugin.InvalidArgumentException    if it is not a valid namespace name
     */
    public static String namespace() {
        String namespace = optionalNamespace().orElseThrow(
                () -> BerthException.of(BerthException.Kind.FAILED_PRECONDITION, "namespace is required"));
        try {
            return Identifiers.validate(namespace);
        } catch (BerthException e) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "namespace validation: " + e.getMessage());
        }
    }

    /** The call's namespace header, if it has a non-empty one. */
    public static Optional<String> optionalNamespace() {
        return Optional.ofNullable(NAMESPACE_VALUE.get()).filter(value -> !value.isEmpty());
    }

    /** The lease the call's writes belong to, if it names one. */
    public static Optional<String> lease() {
        return Optional.ofNullable(LEASE_VALUE.get()).filter(value -> !value.isEmpty());
    }
}
