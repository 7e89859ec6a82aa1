package dev.understudy.store;

/** One stored value: JSON text and the database version (the Raft log index that last wrote it). */
public record Entry(String key, String value, long version) {}
