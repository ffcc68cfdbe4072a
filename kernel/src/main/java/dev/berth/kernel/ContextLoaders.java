package dev.berth.kernel;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.Callable;

/** Runs calls into a plugin with the plugin's class loader as the thread's context class loader. */
final class ContextLoaders {
    private ContextLoaders() {}

    static <V> V call(ClassLoader loader, Callable<V> body) throws Exception {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            return body.call();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /**
     * The instance as the rest of the daemon sees it. For a plugin from a jar whose contract is an
     * interface, a proxy that sets the jar's loader around every call, so code in the jar that looks
     * up resources or services through the context loader finds its own; built-ins are not wrapped.
     */
    static Object expose(Class<?> contract, Object instance, ClassLoader loader, ClassLoader daemonLoader) {
        if (loader == daemonLoader || !contract.isInterface()) {
            return instance;
        }
        InvocationHandler handler = new Handler(instance, loader);
        return Proxy.newProxyInstance(contract.getClassLoader(), new Class<?>[] {contract}, handler);
    }

    private record Handler(Object target, ClassLoader loader) implements InvocationHandler {
        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                    case "equals" -> proxy == args[0];
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "toString" -> target.toString();
                    default -> method.invoke(target, args);
                };
            }
            Thread thread = Thread.currentThread();
            ClassLoader previous = thread.getContextClassLoader();
            thread.setContextClassLoader(loader);
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            } finally {
                thread.setContextClassLoader(previous);
            }
        }
    }
}
