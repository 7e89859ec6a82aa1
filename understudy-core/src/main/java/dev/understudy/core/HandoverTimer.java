package dev.understudy.core;

import dev.understudy.decide.Action;
import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.Event;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Times this server's planned hand-overs (a failback, an operator's move or drain) on its own monotonic clock: from the
 * stop of its instance to the app RUNNING on the new host, as its replica shows it. That is the whole outage a
 * failback costs the clients. One clock, so no wall-clock skew between the two hosts enters the figure.
 */
final class HandoverTimer {
  /** A hand-over this server committed: of which kind, to which host at which epoch, and when its stop began. */
  private record Pending(String kind, String to, long epoch, long stopNanos) {}

  /** The hand-overs an operator or the failback rule chose (a drain is an operator's move of every app). */
  private static final java.util.Set<String> PLANNED = java.util.Set.of("FAILBACK", "MOVE", "DRAIN");

  private final String self;
  private final Map<String, Long> stopAt = new HashMap<>();
  private final Map<String, Pending> pending = new HashMap<>();

  HandoverTimer(String self) { this.self = self; }

  /** The core asked to stop {@code tag}'s instance here (kept from the first ask until the app's next commit). */
  void stopping(String tag, long now) { stopAt.putIfAbsent(tag, now); }

  /**
   * A commit this server is about to write. The event of a commit after a stop here (a hand-over, an unload) gains
   * {@code stopMs}, how long the stop took: the event is stamped when the stop has ended, the app was down from
   * {@code stopMs} earlier.
   */
  Action.Commit committing(Action.Commit c, long now) {
    String tag = c.updated().tag();
    Long stopped = stopAt.remove(tag);
    Event e = c.event();
    if (e == null || (stopped == null && !PLANNED.contains(e.kind()))) return c;
    long from = stopped == null ? now : stopped;
    if (PLANNED.contains(e.kind())) pending.put(tag, new Pending(e.kind(), c.updated().host(), c.updated().epoch(), from));
    Event timed = e.withDetail("stopMs", String.valueOf((now - from) / 1_000_000));
    return new Action.Commit(c.updated(), c.leaseServer(), c.leaseVersion(), timed);
  }

  /** Hand-overs that ended, as the replica shows: RUNNING on the new host at the epoch handed over, timed; others dropped. */
  void completed(ClusterSnapshot snap, long now, List<Ready.Measure> out) {
    stopAt.keySet().removeIf(tag -> {
      App a = snap.apps().get(tag);
      return a == null || !a.hasHost() || !a.host().equals(self); // a stop that led to no commit of ours
    });
    pending.entrySet().removeIf(en -> {
      App a = snap.apps().get(en.getKey());
      Pending p = en.getValue();
      if (a == null || a.epoch() > p.epoch()) return true; // superseded: not a hand-over's time
      if (a.epoch() < p.epoch()) return false; // the hand-over is not applied here yet
      if (!p.to().equals(a.host())) return true;
      if (a.state() == AppState.STARTING) return false;
      if (a.state() == AppState.RUNNING || a.state() == AppState.FAILBACK_PENDING) {
        out.add(new Ready.Measure(p.kind().equals("FAILBACK") ? Ready.Measure.Kind.FAILBACK : Ready.Measure.Kind.MOVE,
            (now - p.stopNanos()) / 1e9));
      }
      return true;
    });
  }
}
