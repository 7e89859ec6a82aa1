package dev.understudy.agent;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether this agent's view of the cluster is current, and since when it is not: what status must say before showing
 * the database as this replica last applied it. A view is current while the agent holds its lease (it wrote to a
 * majority within the last lease) and its replica has applied what it must; without that, the apps the database says
 * run here were stopped by this server's fence, whatever the last applied state still records.
 */
public final class Standing {
  /** An app this server stopped (or its fence killed) because its lease lapsed. */
  public record Fenced(String tag, long epoch, long atMillis) {}

  private boolean current;
  private long sinceMillis = System.currentTimeMillis();
  private String reason = "starting: its lease is not acquired yet";
  private final List<Fenced> fenced = new ArrayList<>();

  /**
   * The lease was lost ({@code held} false) or regained. {@code running}: the apps this server ran at that moment (tag
   * to epoch), which its fence stops when the lease ends.
   */
  public synchronized void leaseChanged(boolean held, String why, Map<String, Long> running, long nowMillis) {
    if (!held && current) {
      current = false;
      sinceMillis = nowMillis;
      reason = why;
      running.forEach((tag, epoch) -> fencedNow(tag, epoch, nowMillis));
    } else if (held && !current) {
      current = true;
      sinceMillis = nowMillis;
      reason = null;
      fenced.clear();
    }
  }

  /**
   * The fence killed {@code tag} at its deadline: the lease ran out, which the lease's own watch may notice a moment
   * later, by when the app is gone from the running ones it reports.
   */
  public synchronized void fencedNow(String tag, long epoch, long nowMillis) {
    fenced.removeIf(f -> f.tag().equals(tag));
    fenced.add(new Fenced(tag, epoch, nowMillis));
  }

  public synchronized boolean current() { return current; }

  /**
   * For status: {@code current}, and when it is not, since when, why, and the apps this server's fence stopped.
   * {@code replicaCurrent} false: the replica stopped applying or diverged (the agent's replica doctor says so).
   */
  public synchronized Map<String, Object> view(boolean replicaCurrent) {
    Map<String, Object> m = new LinkedHashMap<>();
    boolean ok = current && replicaCurrent;
    m.put("current", ok);
    if (!current) {
      m.put("since", sinceMillis);
      m.put("reason", "this server cannot reach a majority (" + reason + "): what follows is the database as its replica"
          + " last applied it, and the apps recorded here were stopped by its fence");
      List<Map<String, Object>> f = new ArrayList<>();
      for (Fenced x : fenced) f.add(Map.of("tag", x.tag(), "epoch", x.epoch(), "at", x.atMillis()));
      m.put("fenced", f);
    } else if (!replicaCurrent) {
      m.put("reason", "this server's replica has stopped applying the leader's log: what follows may be out of date");
    }
    return m;
  }
}
