package dev.berth.kernel;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;

/** Builds real PF4J plugin jars from Java source at test time, compiled against the SPI. */
final class TestJars {
    private final String pluginId;
    private final Map<String, String> sources = new LinkedHashMap<>();
    private final List<String> providers = new ArrayList<>();
    private String requires = "^1.0.0";
    private String referenceConf;

    private TestJars(String pluginId) {
        this.pluginId = pluginId;
    }

    static TestJars plugin(String pluginId) {
        return new TestJars(pluginId);
    }

    /** Adds a class; {@code qualifiedName} like {@code sample.Hello}. */
    TestJars source(String qualifiedName, String code) {
        sources.put(qualifiedName, code);
        return this;
    }

    /** Adds a {@code PluginProvider} implementation and lists it as a service. */
    TestJars provider(String qualifiedName, String code) {
        providers.add(qualifiedName);
        return source(qualifiedName, code);
    }

    TestJars requires(String expression) {
        this.requires = expression;
        return this;
    }

    TestJars referenceConf(String text) {
        this.referenceConf = text;
        return this;
    }

    Path build(Path dir) {
        try {
            Files.createDirectories(dir);
            Path classes = Files.createTempDirectory(dir, "classes");
            compile(classes);
            Path jar = dir.resolve(pluginId + ".jar");
            Manifest manifest = new Manifest();
            Attributes main = manifest.getMainAttributes();
            main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
            main.putValue("Plugin-Id", pluginId);
            main.putValue("Plugin-Version", "1.0.0");
            main.putValue("Plugin-Requires", requires);
            main.putValue("Plugin-Provider", "Berth tests");
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
                try (Stream<Path> files = Files.walk(classes)) {
                    for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                        put(out, classes.relativize(file).toString().replace('\\', '/'), Files.readAllBytes(file));
                    }
                }
                if (!providers.isEmpty()) {
                    put(out, "META-INF/services/dev.berth.plugin.PluginProvider",
                            (String.join("\n", providers) + "\n").getBytes(UTF_8));
                }
                if (referenceConf != null) {
                    put(out, "reference.conf", referenceConf.getBytes(UTF_8));
                }
            }
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void put(JarOutputStream out, String name, byte[] bytes) throws IOException {
        out.putNextEntry(new JarEntry(name));
        out.write(bytes);
        out.closeEntry();
    }

    private void compile(Path classes) {
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        List<JavaFileObject> units = new ArrayList<>();
        sources.forEach((name, code) -> units.add(new Source(name, code)));
        StringWriter diagnostics = new StringWriter();
        List<String> options = List.of("-d", classes.toString(), "-classpath", System.getProperty("java.class.path"),
                "--release", "25", "-proc:none");
        boolean ok = compiler.getTask(diagnostics, null, null, options, null, units).call();
        if (!ok) {
            throw new IllegalStateException("test plugin " + pluginId + " does not compile:\n" + diagnostics);
        }
    }

    private static final class Source extends SimpleJavaFileObject {
        private final String code;

        Source(String name, String code) {
            super(URI.create("string:///" + name.replace('.', '/') + Kind.SOURCE.extension), Kind.SOURCE);
            this.code = code;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return code;
        }
    }
}
