package dev.understudy.model;

/** What is left of a removed app: its last epoch. A new app of the same tag starts above it. */
public record Tombstone(String tag, long epoch) {}
