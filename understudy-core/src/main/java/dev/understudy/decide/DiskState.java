package dev.understudy.decide;

/** What the disk pulse says about a server. */
public enum DiskState {
  /** no disk pulse configured for this cluster */
  NOT_CONFIGURED,
  /** its counter changed within the timeout and it says RUNNING */
  ALIVE,
  /** its counter has not changed for the timeout, or its slot is torn or foreign (no evidence of life) */
  STALE,
  /** it wrote FENCED: it has stopped its apps */
  FENCED
}
