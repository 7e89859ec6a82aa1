package dev.understudy.model;

/**
 * A server's lease record, renewed through the database. {@code incarnation} changes every time the agent acquires
 * a lease (after a start or a revocation); {@code seq} on every renewal. Whether it is revoked is a separate record,
 * {@link Revocation}, so renewals need not wait for each other.
 */
public record Lease(String server, long incarnation, long seq) {}
