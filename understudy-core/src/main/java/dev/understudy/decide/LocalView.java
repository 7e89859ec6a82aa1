package dev.understudy.decide;

import java.util.List;
import java.util.Map;

/**
 * What this agent knows that is not in the database: its own lease (holder's count), its processes, its verdicts
 * on the other servers, which requirements of each app it lacks, its uplink, and the failures of each app here (crashes, failed or timed-out starts).
 * {@code replicaCurrent}: the snapshot was taken from a replica that had already applied every write this agent made
 * (PROTOCOL.md R4); when false, nothing is started.
 */
public record LocalView(
    String self,
    boolean leaseValid,
    Map<String, Instance> instances,
    Map<String, PeerView> peers,
    Map<String, List<String>> unmet,
    boolean uplinkOk,
    Map<String, List<Long>> failureNanos,
    boolean replicaCurrent,
    java.util.Set<String> uncertain) {

  /**
   * {@code uncertain}: apps for which this agent sent a write whose outcome is unknown (a leader change, a timeout) and
   * that this replica has not yet resolved. Such a write counts as possibly applied: the app is not started here from
   * a view that may predate it (a hand-over may have committed).
   */
  public LocalView(String self, boolean leaseValid, Map<String, Instance> instances, Map<String, PeerView> peers,
                   Map<String, List<String>> unmet, boolean uplinkOk, Map<String, List<Long>> failureNanos,
                   boolean replicaCurrent) {
    this(self, leaseValid, instances, peers, unmet, uplinkOk, failureNanos, replicaCurrent, java.util.Set.of());
  }

  /** Without {@code replicaCurrent}: a view whose replica has applied this agent's own writes. */
  public LocalView(String self, boolean leaseValid, Map<String, Instance> instances, Map<String, PeerView> peers,
                   Map<String, List<String>> unmet, boolean uplinkOk, Map<String, List<Long>> failureNanos) {
    this(self, leaseValid, instances, peers, unmet, uplinkOk, failureNanos, true);
  }

  public List<String> unmetFor(String tag) { return unmet.getOrDefault(tag, List.of()); }

  public List<Long> failuresOf(String tag) { return failureNanos.getOrDefault(tag, List.of()); }
}
