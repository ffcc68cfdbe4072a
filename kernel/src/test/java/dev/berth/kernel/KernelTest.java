package dev.berth.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.berth.config.ConfigSources;
import dev.berth.plugin.DaemonInfo;
import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.PluginApi;
import dev.berth.plugin.PluginInfo;
import dev.berth.plugin.PluginStatus;
import dev.berth.plugin.PluginType;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelTest {
    @SuppressWarnings("rawtypes")
    private static final PluginType<Supplier> THING = PluginType.of("io.test.thing.v1", Supplier.class);

    @TempDir
    Path temp;

    /** A provider whose plugins are all of type io.test.thing.v1 (contract: Supplier, an interface every loader shares). */
    static String provider(String pkg, String... registrations) {
        return """
                package %s;

                import dev.berth.plugin.*;
                import java.nio.file.*;
                import java.util.*;
                import java.util.function.Supplier;

                public final class Provider implements PluginProvider {
                    static final PluginType<Supplier> T = PluginType.of("io.test.thing.v1", Supplier.class);
                    static final PluginType<Supplier> BASE = PluginType.of("io.test.base.v1", Supplier.class);
                    public record Conf(String greeting, int count) {}

                    static void record(InitContext ctx, String line) throws Exception {
                        Files.writeString(ctx.daemon().root().resolve("events.log"), line + "\\n",
                                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    }

                    static Supplier<String> thing(InitContext ctx, String id) throws Exception {
                        record(ctx, "init " + id);
                        return new Thing(ctx, id);
                    }

                    static final class Thing implements Supplier<String>, AutoCloseable {
                        private final InitContext ctx;
                        private final String id;
                        Thing(InitContext ctx, String id) { this.ctx = ctx; this.id = id; }
                        public String get() {
                            return id + ":" + (Thread.currentThread().getContextClassLoader() == Thing.class.getClassLoader());
                        }
                        public void close() throws Exception { record(ctx, "close " + id); }
                    }

                    public List<Registration<?>> registrations() {
                        return List.of(
                            %s
                        );
                    }
                }
                """.formatted(pkg, String.join(",\n", registrations));
    }

    private Path jar(String id, String... registrations) {
        return TestJars.plugin(id).provider(id + ".Provider", provider(id, registrations)).build(temp.resolve("jars"));
    }

    private Kernel kernel(Path pluginDir, Config user, Set<String> disabled, Set<String> required) {
        Path root = temp.resolve("root");
        DaemonInfo daemon = new DaemonInfo("0.0.0-test", "test", root, temp.resolve("state"), "/tmp/x.sock", "/tmp/x.sock.ttrpc");
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return Kernel.prepare(new KernelOptions(daemon, user, List.of(pluginDir), disabled, required,
                KernelTest.class.getClassLoader()));
    }

    private Kernel kernel(Path pluginDir) {
        return kernel(pluginDir, ConfigFactory.empty(), Set.of(), Set.of());
    }

    private Path pluginDir(Path... jars) throws IOException {
        Path dir = Files.createDirectories(temp.resolve("plugins"));
        for (Path jar : jars) {
            Files.copy(jar, dir.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        return dir;
    }

    private static PluginInfo info(Kernel kernel, String uri) {
        return kernel.plugins().stream().filter(p -> p.uri().equals(uri)).findFirst()
                .orElseThrow(() -> new AssertionError(uri + " not in " + kernel.plugins()));
    }

    private List<String> events() throws IOException {
        Path log = temp.resolve("root/events.log");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    @Test
    void initialisesInDependencyOrderAndClosesInReverse() throws Exception {
        Path dir = pluginDir(jar("order",
                "Registration.builder(T, \"a\").requires(Dependency.named(T, \"b\")).init(ctx -> thing(ctx, \"a\"))",
                "Registration.builder(T, \"b\").requires(Dependency.one(BASE)).init(ctx -> thing(ctx, \"b\"))",
                "Registration.builder(BASE, \"c\").init(ctx -> thing(ctx, \"c\"))"));
        Kernel kernel = kernel(dir);
        kernel.start();
        assertEquals(List.of("init c", "init b", "init a"), events());
        assertEquals(List.of("io.test.base.v1.c", "io.test.thing.v1.b", "io.test.thing.v1.a"),
                kernel.plugins().stream().map(PluginInfo::uri).toList());
        assertEquals(List.of("io.test.base.v1"), info(kernel, "io.test.thing.v1.b").requires());
        assertTrue(info(kernel, "io.test.thing.v1.a").origin().endsWith("order.jar"));
        kernel.close();
        assertEquals(List.of("init c", "init b", "init a", "close a", "close b", "close c"), events());
        assertEquals(PluginStatus.CLOSED, info(kernel, "io.test.thing.v1.a").status());
    }

    @Test
    void reportsEveryGraphProblemTogether() throws Exception {
        Path dir = pluginDir(
                jar("graph",
                        "Registration.builder(T, \"lonely\").requires(Dependency.named(T, \"nope\")).init(ctx -> thing(ctx, \"lonely\"))",
                        "Registration.builder(T, \"x\").requires(Dependency.named(T, \"y\")).init(ctx -> thing(ctx, \"x\"))",
                        "Registration.builder(T, \"y\").requires(Dependency.named(T, \"z\")).init(ctx -> thing(ctx, \"y\"))",
                        "Registration.builder(T, \"z\").requires(Dependency.named(T, \"x\")).init(ctx -> thing(ctx, \"z\"))",
                        "Registration.builder(T, \"picky\").requires(Dependency.one(BASE)).init(ctx -> thing(ctx, \"picky\"))",
                        "Registration.builder(BASE, \"b1\").init(ctx -> thing(ctx, \"b1\"))",
                        "Registration.builder(BASE, \"b2\").init(ctx -> thing(ctx, \"b2\"))",
                        "Registration.builder(T, \"fine\").init(ctx -> thing(ctx, \"fine\"))"),
                jar("twin", "Registration.builder(T, \"fine\").init(ctx -> thing(ctx, \"fine-again\"))"));
        Kernel kernel = kernel(dir);
        kernel.start();
        assertError(kernel, "io.test.thing.v1.lonely", "missing dependency: requires io.test.thing.v1.nope");
        for (String member : List.of("x", "y", "z")) {
            PluginInfo info = info(kernel, "io.test.thing.v1." + member);
            assertEquals(PluginStatus.ERROR, info.status());
            String error = info.error().orElseThrow();
            assertTrue(error.startsWith("dependency cycle: "), error);
            for (String named : List.of("io.test.thing.v1.x", "io.test.thing.v1.y", "io.test.thing.v1.z")) {
                assertTrue(error.contains(named), error);
            }
        }
        assertError(kernel, "io.test.thing.v1.picky", "ambiguous dependency: requires one plugin of type io.test.base.v1, found io.test.base.v1.b1, io.test.base.v1.b2");
        List<PluginInfo> fine = kernel.plugins().stream().filter(p -> p.uri().equals("io.test.thing.v1.fine")).toList();
        assertEquals(2, fine.size());
        assertEquals(PluginStatus.OK, fine.get(0).status());
        assertEquals(PluginStatus.ERROR, fine.get(1).status());
        assertTrue(fine.get(1).error().orElseThrow().contains("duplicate plugin io.test.thing.v1.fine: already registered by "
                + dir.resolve("graph.jar")), fine.get(1).error().orElseThrow());
        assertEquals(List.of("init b1", "init b2", "init fine"), events());
    }

    private static void assertError(Kernel kernel, String uri, String expected) {
        PluginInfo info = info(kernel, uri);
        assertEquals(PluginStatus.ERROR, info.status(), uri);
        assertTrue(info.error().orElseThrow().contains(expected), info.error().orElseThrow());
    }

    @Test
    void failuresAndSkipsReachDependents() throws Exception {
        Path dir = pluginDir(jar("failing",
                "Registration.builder(T, \"boom\").init(ctx -> { throw new IllegalStateException(\"disk on fire\"); })",
                "Registration.builder(T, \"after-boom\").requires(Dependency.named(T, \"boom\")).init(ctx -> thing(ctx, \"after-boom\"))",
                "Registration.builder(T, \"shy\").init(ctx -> { throw ctx.skip(\"no overlay here\"); })",
                "Registration.builder(T, \"after-shy\").requires(Dependency.named(T, \"shy\")).init(ctx -> thing(ctx, \"after-shy\"))",
                "Registration.builder(T, \"maybe\").requires(Dependency.optional(T, \"boom\")).init(ctx -> { record(ctx, \"optional present \" + ctx.find(Dependency.optional(T, \"boom\")).isPresent()); return thing(ctx, \"maybe\"); })",
                "Registration.builder(T, \"nothing\").init(ctx -> null)"));
        Kernel kernel = kernel(dir);
        kernel.start();
        assertError(kernel, "io.test.thing.v1.boom", "disk on fire");
        assertError(kernel, "io.test.thing.v1.after-boom", "dependency io.test.thing.v1.boom is error: disk on fire");
        PluginInfo shy = info(kernel, "io.test.thing.v1.shy");
        assertEquals(PluginStatus.SKIP, shy.status());
        assertEquals(Optional.of("no overlay here"), shy.error());
        assertError(kernel, "io.test.thing.v1.after-shy", "dependency io.test.thing.v1.shy is skip: no overlay here");
        assertEquals(PluginStatus.OK, info(kernel, "io.test.thing.v1.maybe").status());
        assertError(kernel, "io.test.thing.v1.nothing", "init returned null");
        assertEquals(List.of("optional present false", "init maybe"), events());
    }

    @Test
    void requiredPluginThatFailsStopsStartWithItsCause() throws Exception {
        Path dir = pluginDir(jar("failing", "Registration.builder(T, \"boom\").init(ctx -> { throw new IllegalStateException(\"disk on fire\"); })"));
        Kernel kernel = kernel(dir, ConfigFactory.empty(), Set.of(), Set.of("io.test.thing.v1.boom", "io.test.thing.v1.ghost"));
        RequiredPluginException e = assertThrows(RequiredPluginException.class, kernel::start);
        assertEquals(List.of("required plugin io.test.thing.v1.boom is error: disk on fire",
                "required plugin io.test.thing.v1.ghost is not registered"), e.failures().stream().sorted().toList());
    }

    @Test
    void disabledPluginsAreRemovedBeforeResolution() throws Exception {
        Path dir = pluginDir(jar("disabled",
                "Registration.builder(T, \"off\").init(ctx -> thing(ctx, \"off\"))",
                "Registration.builder(T, \"needs-off\").requires(Dependency.named(T, \"off\")).init(ctx -> thing(ctx, \"needs-off\"))"));
        Kernel kernel = kernel(dir, ConfigFactory.empty(), Set.of("io.test.thing.v1.off"), Set.of());
        kernel.start();
        assertTrue(kernel.plugins().stream().noneMatch(p -> p.id().equals("off")));
        assertError(kernel, "io.test.thing.v1.needs-off", "missing dependency");
    }

    @Test
    void jarBuiltAgainstAnotherPluginApiIsRefusedNamingBothVersions() throws Exception {
        Path future = TestJars.plugin("future").requires(">=2.0.0")
                .provider("future.Provider", provider("future", "Registration.builder(T, \"f\").init(ctx -> thing(ctx, \"f\"))"))
                .build(temp.resolve("jars"));
        Kernel kernel = kernel(pluginDir(future));
        kernel.start();
        PluginInfo info = info(kernel, Kernel.JAR_TYPE + ".future");
        assertEquals(PluginStatus.ERROR, info.status());
        assertTrue(info.error().orElseThrow().contains(">=2.0.0") && info.error().orElseThrow().contains(PluginApi.version()),
                info.error().orElseThrow());
        assertEquals(List.of(), events());
    }

    @Test
    void jarSeesOnlyTheSpiAndCallsRunWithItsLoader() throws Exception {
        Path dir = pluginDir(jar("isolated", """
                Registration.builder(T, "probe").init(ctx -> {
                    ClassLoader own = Provider.class.getClassLoader();
                    boolean kernelVisible;
                    try { Class.forName("dev.berth.kernel.Kernel", false, own); kernelVisible = true; }
                    catch (ClassNotFoundException e) { kernelVisible = false; }
                    boolean configVisible;
                    try { Class.forName("com.typesafe.config.Config", false, own); configVisible = true; }
                    catch (ClassNotFoundException e) { configVisible = false; }
                    ctx.export("kernel-visible", String.valueOf(kernelVisible));
                    ctx.export("config-visible", String.valueOf(configVisible));
                    ctx.export("init-loader-is-own", String.valueOf(Thread.currentThread().getContextClassLoader() == own));
                    ctx.export("daemon-reference-visible", String.valueOf(own.getResource("reference.conf") != null));
                    org.slf4j.LoggerFactory.getLogger(Provider.class).info("slf4j is shared");
                    return thing(ctx, "probe");
                })"""));
        Kernel kernel = kernel(dir);
        kernel.start();
        PluginInfo probe = info(kernel, "io.test.thing.v1.probe");
        assertEquals(PluginStatus.OK, probe.status(), probe.error().orElse(""));
        assertEquals(Map.of("kernel-visible", "false", "config-visible", "false", "init-loader-is-own", "true",
                "daemon-reference-visible", "false"), probe.exports());
        @SuppressWarnings("unchecked")
        Supplier<String> instance = kernel.instances(THING).get("probe");
        // the call goes through the kernel's proxy, which sets the jar's loader as context loader
        assertEquals("probe:true", instance.get());
        kernel.close();
    }

    @Test
    void pluginConfigBindsStrictlyWithFileAndLine() throws Exception {
        Path jar = TestJars.plugin("configured")
                .provider("configured.Provider", provider("configured", """
                        Registration.builder(T, "conf").config(Conf.class).init(ctx -> {
                            Conf conf = ctx.config(Conf.class);
                            ctx.export("greeting", conf.greeting() + " x" + conf.count());
                            return thing(ctx, "conf");
                        })"""))
                .referenceConf("""
                        plugins."io.test.thing.v1.conf" {
                          # what the plugin says
                          greeting = "hello"
                          # how often
                          count = 1
                        }
                        """)
                .build(temp.resolve("jars"));
        Path dir = pluginDir(jar);
        Path good = Files.writeString(temp.resolve("good.conf"), """
                plugins."io.test.thing.v1.conf" {
                  count = 3
                }
                """);
        Kernel kernel = kernel(dir, ConfigSources.user(Optional.of(good), Map.of()), Set.of(), Set.of());
        assertEquals(List.of(), kernel.configProblems());
        kernel.start();
        assertEquals("hello x3", info(kernel, "io.test.thing.v1.conf").exports().get("greeting"));
        kernel.close();

        Path bad = Files.writeString(temp.resolve("bad.conf"), """
                plugins {
                  "io.test.thing.v1.conf" {
                    greting = "hi"
                  }
                  "io.test.thing.v1.cnof" {}
                }
                """);
        Kernel broken = kernel(dir, ConfigSources.user(Optional.of(bad), Map.of()), Set.of(), Set.of());
        List<String> problems = broken.configProblems().stream().map(p -> p.format()).toList();
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("bad.conf:3") && p.contains("greting") && p.contains("did you mean 'greeting'")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("bad.conf:5") && p.contains("did you mean 'io.test.thing.v1.conf'")), problems.toString());
        broken.start();
        assertError(broken, "io.test.thing.v1.conf", "greting");
        assertEquals(Map.of("plugins.\"io.test.thing.v1.conf\"", Class.forName("configured.Provider$Conf", false,
                broken.configSections().values().iterator().next().getClassLoader())), broken.configSections());
    }

    @Test
    void hotLoadedJarUnloadsAndItsLoaderIsCollected() throws Exception {
        Path dir = pluginDir();
        Kernel kernel = kernel(dir);
        kernel.start();
        Path jar = jar("hot", "Registration.builder(T, \"hot\").init(ctx -> thing(ctx, \"hot\"))");
        List<PluginInfo> loaded = kernel.load(jar);
        assertEquals(List.of(PluginStatus.OK), loaded.stream().map(PluginInfo::status).toList());
        WeakReference<ClassLoader> loader = loaderOf(kernel);
        assertTrue(loader.get() instanceof org.pf4j.PluginClassLoader);

        kernel.unload(jar);
        assertTrue(kernel.plugins().stream().noneMatch(p -> p.id().equals("hot")));
        assertEquals(List.of("init hot", "close hot"), events());
        for (int i = 0; i < 50 && loader.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        if (loader.get() != null) {
            fail("the unloaded jar's class loader is still reachable");
        }
        kernel.close();
    }

    @SuppressWarnings("unchecked")
    private static WeakReference<ClassLoader> loaderOf(Kernel kernel) {
        Supplier<String> instance = kernel.instances(THING).get("hot");
        // the proxy's handler holds the plugin's loader; read it through the same call path a user has
        assertEquals("hot:true", instance.get());
        ClassLoader loader = java.lang.reflect.Proxy.isProxyClass(instance.getClass())
                ? handlerLoader(instance) : instance.getClass().getClassLoader();
        return new WeakReference<>(loader);
    }

    private static ClassLoader handlerLoader(Object proxy) {
        Object handler = java.lang.reflect.Proxy.getInvocationHandler(proxy);
        try {
            var loader = handler.getClass().getDeclaredMethod("loader");
            loader.setAccessible(true);
            return (ClassLoader) loader.invoke(handler);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void unloadIsRefusedWhileAnotherPluginDependsOnTheJar() throws Exception {
        Path dir = pluginDir();
        Kernel kernel = kernel(dir);
        kernel.start();
        Path base = jar("base", "Registration.builder(BASE, \"core\").init(ctx -> thing(ctx, \"core\"))");
        Path user = jar("user", "Registration.builder(T, \"user\").requires(Dependency.named(BASE, \"core\")).init(ctx -> thing(ctx, \"user\"))");
        kernel.load(base);
        assertEquals(PluginStatus.OK, kernel.load(user).getFirst().status());
        FailedPreconditionException refused = assertThrows(FailedPreconditionException.class, () -> kernel.unload(base));
        assertTrue(refused.getMessage().contains("io.test.thing.v1.user depends on io.test.base.v1.core"), refused.getMessage());
        assertEquals(PluginStatus.OK, info(kernel, "io.test.base.v1.core").status());
        kernel.unload(user);
        kernel.unload(base);
        assertEquals(List.of(), kernel.plugins());
        kernel.close();
    }

    @Test
    void watchedDirectoryLoadsCopiedJarsAndUnloadsRemovedOnes() throws Exception {
        Path dir = pluginDir();
        Kernel kernel = kernel(dir);
        kernel.start();
        kernel.watchPluginDirs();
        Path jar = jar("watched", "Registration.builder(T, \"watched\").init(ctx -> thing(ctx, \"watched\"))");
        Files.copy(jar, dir.resolve("watched.jar"));
        await(() -> kernel.plugins().stream().anyMatch(p -> p.id().equals("watched") && p.status() == PluginStatus.OK));
        Files.delete(dir.resolve("watched.jar"));
        await(() -> kernel.plugins().isEmpty());
        assertEquals(List.of("init watched", "close watched"), events());

        // a jar that cannot be used, then replaced in place by a fixed build, is reloaded
        Path broken = TestJars.plugin("fixme").requires(">=2.0.0")
                .provider("fixme.Provider", provider("fixme", "Registration.builder(T, \"fixme\").init(ctx -> thing(ctx, \"fixme\"))"))
                .build(temp.resolve("broken"));
        Files.copy(broken, dir.resolve("fixme.jar"));
        await(() -> kernel.plugins().stream().anyMatch(p -> p.uri().equals(Kernel.JAR_TYPE + ".fixme")));
        Path fixed = TestJars.plugin("fixme")
                .provider("fixme.Provider", provider("fixme", "Registration.builder(T, \"fixme\").init(ctx -> thing(ctx, \"fixme\"))"))
                .build(temp.resolve("fixed"));
        Files.copy(fixed, dir.resolve("fixme.jar"), StandardCopyOption.REPLACE_EXISTING);
        await(() -> kernel.plugins().stream().anyMatch(p -> p.uri().equals("io.test.thing.v1.fixme") && p.status() == PluginStatus.OK));
        assertEquals(1, kernel.plugins().size(), kernel.plugins().toString());
        kernel.close();
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("condition not met within 10 s");
            }
            Thread.sleep(50);
        }
    }
}
