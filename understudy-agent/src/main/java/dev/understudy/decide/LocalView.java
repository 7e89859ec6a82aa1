package dev.understudy.decide;

import java.util.List;
import java.util.Map;

/**
 * What this agent knows that is not in the database: its own lease (holder's count), its processes, its verdicts
 * on the other servers, which requirements of each app it lacks, its uplink, and the crashes of each app here.
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
    Map<String, List<Long>> crashNanos,
    boolean replicaCurrent) {

  /** Without {@code replicaCurrent}: a view whose replica has applied this agent's own writes. */
  public LocalView(String self, boolean leaseValid, Map<String, Instance> instances, Map<String, PeerView> peers,
                   Map<String, List<String>> unmet, boolean uplinkOk, Map<String, List<Long>> crashNanos) {
    this(self, leaseValid, instances, peers, unmet, uplinkOk, crashNanos, true);
  }

  public List<String> unmetFor(String tag) { return unmet.getOrDefault(tag, List.of()); }
}
