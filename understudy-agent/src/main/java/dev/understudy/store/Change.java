package dev.understudy.store;

/** One key changed by an applied transaction; {@code newValue == null} means deleted. */
public record Change(String key, String oldValue, String newValue, long version) {}
