package dev.understudy.model;

/**
 * A server's lease record, renewed through the database. {@code incarnation} changes every time the agent acquires
 * a lease (after a start or a revocation); {@code seq} on every renewal. Whether it is revoked is a separate record,
 * {@link Revocation}, so renewals need not wait for each other.
 *
 * <p>{@code leaseMillis} and {@code marginMillis} are the holder's own lease length and drift margin: every observer
 * judges this lease by them, never by its own configuration, so servers with different timing profiles are safe
 * together (an observer on a shorter lease once took over an app its frozen holder still ran). 0 in a record written by
 * an agent that did not write them: the observer then uses its own, as before.
 */
public record Lease(String server, long incarnation, long seq, long leaseMillis, long marginMillis) {
  public Lease(String server, long incarnation, long seq) { this(server, incarnation, seq, 0, 0); }

  /** The same lease renewed: a new sequence number, everything else as the holder wrote it. */
  public Lease renewed(long newSeq) { return new Lease(server, incarnation, newSeq, leaseMillis, marginMillis); }
}
