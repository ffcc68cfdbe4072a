package dev.berth.plugin.diff;

/** Applies layers and computes them: what a plugin of type {@code io.containerd.differ.v1} provides. */
public interface Differ extends Applier, Comparer {}
