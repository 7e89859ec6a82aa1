package dev.understudy.store;

/**
 * Notices a replica that stopped applying: its state machine's applied index stays below the index of a write this
 * agent made itself (which the leader already committed) and does not move for {@code stallNanos}. Such a replica
 * sees a frozen database (its own server record, the others' leases) while its agent's writes keep succeeding; seen
 * at cluster formation on loaded machines. Pure logic over the caller's clock, so it can be tested exhaustively.
 */
public final class ReplicaWatch {
  /** What one observation concluded. */
  public enum Outcome {
    /** applied everything this agent wrote */
    CURRENT,
    /** behind, and applying */
    CATCHING_UP,
    /** behind, and the applied index has not moved for the stall time: reported once */
    STALLED,
    /** still stalled */
    STILL_STALLED,
    /** moving again after a stall: reported once */
    RECOVERED
  }

  private final long stallNanos;
  private long lastApplied = Long.MIN_VALUE;
  private long sinceNanos;
  private boolean stalled;

  public ReplicaWatch(long stallNanos) {
    if (stallNanos <= 0) throw new IllegalArgumentException("stallNanos must be positive");
    this.stallNanos = stallNanos;
  }

  /**
   * @param applied the replica's last applied index
   * @param mustApply the highest index of a committed write this agent made
   * @param now the caller's clock
   * @return STALLED once per stall (when it starts), RECOVERED once when it ends
   */
  public synchronized Outcome observe(long applied, long mustApply, long now) {
    boolean behind = applied < mustApply;
    if (!behind || applied != lastApplied) {
      lastApplied = applied;
      sinceNanos = now;
      if (stalled) {
        stalled = false;
        return Outcome.RECOVERED;
      }
      return behind ? Outcome.CATCHING_UP : Outcome.CURRENT;
    }
    if (!stalled && now - sinceNanos >= stallNanos) {
      stalled = true;
      return Outcome.STALLED;
    }
    return stalled ? Outcome.STILL_STALLED : Outcome.CATCHING_UP;
  }

  /** Whether the replica is stalled now. */
  public synchronized boolean stalled() { return stalled; }

  /** What a stalled follower should do about it, from its own log and what the leader reports of it. */
  public enum Repair {
    /** the leader counts more from this replica than its log holds: a new leader term recounts */
    ASK_LEADER_TO_STEP_DOWN,
    /** this replica's first entry diverges and the leader counts nothing from it: drop the log, copy the leader's */
    REBUILD_FROM_LEADER,
    /** neither known defect: report only */
    NONE
  }

  /**
   * @param lastIndex this replica's last log index
   * @param firstTerm the term of this replica's entry 0, -1 when its log does not hold it
   * @param leaderFirstTerm the term of the leader's entry 0, -1 when unknown
   * @param leaderMatch the leader's match index for this replica, {@link Long#MIN_VALUE} when it reports none
   */
  public static Repair repair(long lastIndex, long firstTerm, long leaderFirstTerm, long leaderMatch) {
    if (leaderMatch != Long.MIN_VALUE && leaderMatch > lastIndex) return Repair.ASK_LEADER_TO_STEP_DOWN;
    if (leaderMatch == -1 && firstTerm >= 0 && leaderFirstTerm >= 0 && firstTerm != leaderFirstTerm) {
      return Repair.REBUILD_FROM_LEADER;
    }
    return Repair.NONE;
  }
}
