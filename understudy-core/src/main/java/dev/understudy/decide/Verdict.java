package dev.understudy.decide;

/** What one agent believes about another server, combining every channel (see detect.VerdictRules). */
public enum Verdict {
  /** LAN heartbeats answered and lease current. */
  UP,
  /** LAN heartbeats lost but the disk pulse still beats: a LAN glitch, not a death. Nothing moves. */
  SUSPECT,
  /** LAN lost and disk stale/fenced/not configured, or its lease expired. */
  DOWN,
  /** Alive, but it reports its uplink lost: its apps should move to a server that still reaches the network. */
  UNHEALTHY
}
