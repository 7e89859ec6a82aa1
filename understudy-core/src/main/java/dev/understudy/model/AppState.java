package dev.understudy.model;

/** Where an app is in its life, as the database records it. */
public enum AppState {
  /** host is set; the host has not yet confirmed the process runs. */
  STARTING,
  /** the host runs it. */
  RUNNING,
  /** host is empty: an operator unloaded it; nothing restarts it until load. */
  UNLOADED,
  /** no server may run it now (none alive that has its resources); {@code stateReason} says why. */
  UNPLACED,
  /** the primary is back but autoFailback is off: waiting for an operator's approval. */
  FAILBACK_PENDING,
  /**
   * host is empty: every server that may run it failed to run it too often and is passed over for it; it is placed
   * again once one of those failures expires or an operator resets the app ({@code app reset}, {@code app load}).
   */
  FAILED,
  /**
   * Never stored: a commit of an app in this state deletes its object and marker and leaves its tombstone (the last
   * epoch, from which a re-added app of the same tag continues, so fencing tokens never go backwards).
   */
  REMOVED
}
