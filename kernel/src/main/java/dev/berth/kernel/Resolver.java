package dev.berth.kernel;

import dev.berth.plugin.Dependency;
import dev.berth.plugin.Registration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Resolves declared dependencies to plugins and orders them, before anything initialises. Every
 * problem is recorded on the plugin it concerns (missing, ambiguous, contract mismatch, cycle), all
 * of them in one pass; a plugin with a problem is failed, never silently dropped.
 */
final class Resolver {
    private Resolver() {}

    /**
     * Resolves {@code targets} against {@code providers} (which include the targets) and returns the
     * targets in an order where each comes after everything it depends on; ties keep input order.
     */
    static List<PluginNode> resolve(List<PluginNode> providers, List<PluginNode> targets) {
        Map<String, List<PluginNode>> byType = new LinkedHashMap<>();
        Map<String, PluginNode> byUri = new HashMap<>();
        for (PluginNode node : providers) {
            if (node.registration().isPresent()) {
                byType.computeIfAbsent(node.type(), t -> new ArrayList<>()).add(node);
                byUri.put(node.uri(), node);
            }
        }
        for (PluginNode node : targets) {
            Registration<?> registration = node.registration().orElse(null);
            if (registration == null) {
                continue;
            }
            node.resolved().clear();
            for (Dependency<?> dependency : registration.requires()) {
                resolveOne(node, dependency, byType, byUri);
            }
        }
        failCycles(targets);
        return order(targets);
    }

    private static void resolveOne(PluginNode node, Dependency<?> dependency,
            Map<String, List<PluginNode>> byType, Map<String, PluginNode> byUri) {
        String type = dependency.type().uri();
        List<PluginNode> ofType = byType.getOrDefault(type, List.of()).stream()
                .filter(candidate -> candidate != node)
                .toList();
        List<PluginNode> found = switch (dependency) {
            case Dependency.One<?> one -> {
                if (ofType.isEmpty()) {
                    node.fail("missing dependency: requires one plugin of type " + type + ", none is registered");
                    yield List.of();
                }
                if (ofType.size() > 1) {
                    node.fail("ambiguous dependency: requires one plugin of type " + type + ", found "
                            + ofType.stream().map(PluginNode::uri).collect(Collectors.joining(", "))
                            + " (require one by id, or disable the others)");
                    yield List.of();
                }
                yield ofType;
            }
            case Dependency.Named<?> named -> {
                PluginNode target = byUri.get(type + "." + named.id());
                if (target == null || target == node) {
                    node.fail("missing dependency: requires " + type + "." + named.id() + ", which is not registered");
                    yield List.of();
                }
                yield List.of(target);
            }
            case Dependency.Optional<?> optional -> {
                PluginNode target = byUri.get(type + "." + optional.id());
                yield target == null || target == node ? List.of() : List.of(target);
            }
            case Dependency.All<?> all -> ofType;
        };
        for (PluginNode provider : found) {
            Class<?> wanted = dependency.type().contract();
            Class<?> offered = provider.registration().orElseThrow().type().contract();
            if (!wanted.isAssignableFrom(offered)) {
                node.fail("contract mismatch: requires " + type + " as " + wanted.getName()
                        + " but " + provider.uri() + " implements " + offered.getName());
            }
        }
        node.resolved().put(dependency, found);
    }

    /** Fails every plugin on a dependency cycle, naming the whole cycle. */
    private static void failCycles(List<PluginNode> targets) {
        Set<PluginNode> inScope = new HashSet<>(targets);
        for (Set<PluginNode> component : new Tarjan(targets, inScope).components()) {
            PluginNode first = component.iterator().next();
            boolean selfLoop = first.dependencies().contains(first);
            if (component.size() < 2 && !selfLoop) {
                continue;
            }
            List<PluginNode> cycle = cycleThrough(first, component);
            String path = cycle.stream().map(PluginNode::uri).collect(Collectors.joining(" -> "))
                    + " -> " + first.uri();
            for (PluginNode member : component) {
                member.fail("dependency cycle: " + path);
            }
        }
    }

    /** A path from {@code start} back to itself inside its strongly connected component. */
    private static List<PluginNode> cycleThrough(PluginNode start, Set<PluginNode> component) {
        Deque<PluginNode> path = new ArrayDeque<>();
        Set<PluginNode> visited = new HashSet<>();
        if (search(start, start, component, path, visited)) {
            return new ArrayList<>(path);
        }
        return new ArrayList<>(component);
    }

    private static boolean search(PluginNode current, PluginNode start, Set<PluginNode> component,
            Deque<PluginNode> path, Set<PluginNode> visited) {
        path.addLast(current);
        visited.add(current);
        for (PluginNode next : current.dependencies()) {
            if (next == start) {
                return true;
            }
            if (component.contains(next) && !visited.contains(next) && search(next, start, component, path, visited)) {
                return true;
            }
        }
        path.removeLast();
        return false;
    }

    /** Kahn's algorithm, stable: always takes the earliest ready plugin. Members of cycles go last. */
    private static List<PluginNode> order(List<PluginNode> targets) {
        Set<PluginNode> pending = new LinkedHashSet<>(targets);
        List<PluginNode> ordered = new ArrayList<>();
        boolean progress = true;
        while (!pending.isEmpty() && progress) {
            progress = false;
            for (PluginNode node : pending) {
                boolean ready = node.dependencies().stream().noneMatch(pending::contains);
                if (ready) {
                    ordered.add(node);
                    pending.remove(node);
                    progress = true;
                    break;
                }
            }
        }
        ordered.addAll(pending);
        return ordered;
    }

    /** Tarjan's strongly connected components over the dependency edges within scope. */
    private static final class Tarjan {
        private final List<PluginNode> nodes;
        private final Set<PluginNode> scope;
        private final Map<PluginNode, Integer> index = new HashMap<>();
        private final Map<PluginNode, Integer> low = new HashMap<>();
        private final Deque<PluginNode> stack = new ArrayDeque<>();
        private final Set<PluginNode> onStack = new HashSet<>();
        private final List<Set<PluginNode>> components = new ArrayList<>();
        private int counter;

        Tarjan(List<PluginNode> nodes, Set<PluginNode> scope) {
            this.nodes = nodes;
            this.scope = scope;
        }

        List<Set<PluginNode>> components() {
            for (PluginNode node : nodes) {
                if (!index.containsKey(node)) {
                    visit(node);
                }
            }
            return components;
        }

        // Recursion depth is bounded by the number of plugins, which is small.
        private void visit(PluginNode node) {
            index.put(node, counter);
            low.put(node, counter);
            counter++;
            stack.push(node);
            onStack.add(node);
            for (PluginNode next : node.dependencies()) {
                if (!scope.contains(next)) {
                    continue;
                }
                if (!index.containsKey(next)) {
                    visit(next);
                    low.put(node, Math.min(low.get(node), low.get(next)));
                } else if (onStack.contains(next)) {
                    low.put(node, Math.min(low.get(node), index.get(next)));
                }
            }
            if (low.get(node).equals(index.get(node))) {
                Set<PluginNode> component = new LinkedHashSet<>();
                PluginNode member;
                do {
                    member = stack.pop();
                    onStack.remove(member);
                    component.add(member);
                } while (member != node);
                components.add(component);
            }
        }
    }
}
