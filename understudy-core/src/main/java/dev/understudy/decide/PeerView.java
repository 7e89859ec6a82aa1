package dev.understudy.decide;

/**
 * This agent's view of another server. {@code leaseExpired} is counted the observer's way: from when this replica
 * applied the last renewal, on its own monotonic clock, plus the drift margin. {@code leaseVersion} is the version
 * of the lease record that observation rests on: a takeover is conditional on it, so a renewal this replica has
 * not seen yet makes the takeover fail instead of starting a second instance. {@code restarting}: its agent stopped to
 * restart and holds its parting lease: it keeps what it runs, and is given nothing new (no failover, failback or move)
 * until it is back.
 */
public record PeerView(String server, Verdict verdict, long sinceNanos, boolean leaseExpired, long leaseVersion,
                       boolean leaseRevoked, boolean restarting) {
  public PeerView(String server, Verdict verdict, long sinceNanos, boolean leaseExpired, long leaseVersion, boolean leaseRevoked) {
    this(server, verdict, sinceNanos, leaseExpired, leaseVersion, leaseRevoked, false);
  }
}
