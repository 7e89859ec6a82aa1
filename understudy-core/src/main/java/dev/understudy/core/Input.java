package dev.understudy.core;

import dev.understudy.decide.Action;
import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.decide.DiskState;
import dev.understudy.decide.Instance;
import java.util.List;
import java.util.Map;

/** What a node learns: every input the core reacts to. */
public sealed interface Input {

  /**
   * One detection round's evidence on each peer. {@code ackNanos} is the last heartbeat acknowledgement (null: none);
   * {@code leaseKnown}: this replica is current and the peer has held a lease, so a verdict change is an event.
   */
  record Observed(long now, long wallMillis, List<Seen> peers) implements Input {}

  /** The evidence on one peer. */
  record Seen(String server, boolean lanOk, Long ackNanos, DiskState disk, boolean leaseExpired, boolean uplinkOk,
              boolean leaseKnown) {}

  /**
   * A peer's lease as this replica's observer counts it, read when a round is taken. {@code parting}: the lease is the
   * one its agent parted with when it stopped to restart, and it has not run out (the observer counts both).
   */
  record LeaseSeen(boolean expired, long version, boolean revoked, boolean parting) {
    public LeaseSeen(boolean expired, long version, boolean revoked) { this(expired, version, revoked, false); }
  }

  /**
   * A decision round: the replica as applied ({@code appliedIndex}), and the local facts the database does not hold.
   * {@code leaseWriteIndex}: the index of this node's last lease write, which the replica must have applied too.
   * {@code addresses}: every member's address, for routes. {@code leader}: this node leads the database (it warns of
   * unprotected apps).
   */
  record Round(long now, ClusterSnapshot snapshot, long appliedIndex, long leaseWriteIndex, boolean leaseValid,
               Map<String, Instance> instances, Map<String, List<String>> unmet, boolean uplinkOk,
               Map<String, LeaseSeen> leases, Map<String, String> addresses, boolean leader) implements Input {}

  /** An app failed here: it crashed, its start failed or timed out, or its health checks killed it. */
  record AppFailed(String tag, long now) implements Input {}

  /** A commit's result: applied at {@code version}, or refused because a key was at {@code actualVersion}. */
  record WriteDone(Action.Commit commit, boolean ok, long version, Long actualVersion, long now) implements Input {}

  /** A commit whose outcome this node cannot know (a leader change, a timeout): it may still apply. */
  record WriteUnknown(Action.Commit commit) implements Input {}

  /** The database or this server's processes changed in a way the core does not see itself: decide again. */
  enum Changed implements Input { INSTANCE }

  /** Membership changed: these are the peers now (verdicts start DOWN and unobserved for new ones). */
  record Members(List<String> peers, long now, DiskState initialDisk) implements Input {}
}
