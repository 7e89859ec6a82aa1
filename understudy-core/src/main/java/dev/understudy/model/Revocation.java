package dev.understudy.model;

/**
 * Written by the server that took over from {@code server} after that server's lease had certainly expired: the
 * lease of that incarnation can never be renewed again (every renewal is conditional on this record's version).
 */
public record Revocation(String server, long incarnation, String by) {}
