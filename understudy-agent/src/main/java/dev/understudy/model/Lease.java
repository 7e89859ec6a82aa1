package dev.understudy.model;

/**
 * A server's lease record, renewed through the database by a compare-and-set on its version. {@code incarnation}
 * changes on every agent start; {@code seq} on every renewal; {@code revoked} is set by a server that took over
 * this server's apps after the lease had certainly expired, so a late renewal from the old holder fails.
 */
public record Lease(String server, long incarnation, long seq, boolean revoked, String revokedBy) {}
