package dev.understudy.core;

import dev.understudy.decide.Action;
import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.decide.Decider;
import dev.understudy.decide.LocalView;
import dev.understudy.decide.PeerView;
import dev.understudy.decide.Settings;
import dev.understudy.decide.Verdict;
import dev.understudy.decide.VerdictRules;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.Event;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * One node's state and rules: verdicts on peers, failures here, writes whose outcome is unknown, the index the replica
 * must reach before anything starts, routes, and the decision round that asks {@link Decider} what to do. Single
 * threaded and free of I/O: see the package's contract. The patent's flows are in {@link Decider}; this class keeps
 * what they read between rounds.
 */
public final class NodeCore {
  /** A round that acted goes again this soon: what it did may need deciding again with nothing else to wake it. */
  static final long BUSY_ROUND_NANOS = 100_000_000L;
  /** An unknown outcome is left this long to show on the replica before a settling write ends the doubt. */
  static final long SETTLE_AFTER_NANOS = 1_000_000_000L;
  /** The unprotected-apps warning walks every app's servers: once a second is soon enough. */
  static final long UNPROTECTED_CHECK_NANOS = 1_000_000_000L;

  private final String self;
  private final Settings settings;
  private final Consumer<String> log;
  private final Map<String, PeerStatus> peers = new TreeMap<>();
  private final FailureHistory failures;
  /** Apps this node wrote with an unknown outcome, by the version the write was conditional on (R4b). */
  private final Map<String, Long> uncertain = new TreeMap<>();
  /** When each uncertain app's settling write is due. */
  private final Map<String, Long> settleAt = new HashMap<>();
  private long mustApply;
  private final Set<String> unprotected = new HashSet<>();
  /** tag -> {epoch, when the old host went DOWN}: takeovers this node made, timed once RUNNING. */
  private final Map<String, long[]> takeovers = new HashMap<>();
  private final HandoverTimer handovers;
  /** Each peer's last LAN answer, as the latest observation gave it: when a failed host really went silent. */
  private final Map<String, Long> lastAck = new HashMap<>();
  private List<RouteTarget> lastRoutes = List.of();
  private long lastUnprotectedCheck = Long.MIN_VALUE / 2;
  private Map<String, List<String>> unmet = Map.of();
  private long lastNow;
  private boolean roundWanted = true;
  private NodeStatus status = NodeStatus.EMPTY;
  private boolean statusStale = true;

  private final List<Action> actions = new ArrayList<>();
  private final List<Action.Commit> commits = new ArrayList<>();
  private final List<Event> events = new ArrayList<>();
  private final List<Ready.Measure> measures = new ArrayList<>();
  private List<RouteTarget> routes;
  private long wakeAt = Long.MAX_VALUE;

  /** @param log where the core's notes go (the agent's log; a list in tests) */
  public NodeCore(String self, Settings settings, Consumer<String> log) {
    this.self = self;
    this.settings = settings;
    this.log = log;
    this.failures = new FailureHistory(settings, log);
    this.handovers = new HandoverTimer(self);
  }

  public String self() { return self; }

  public Settings settings() { return settings; }

  public void step(Input in) {
    statusStale = true;
    if (in instanceof Input.Observed o) {
      observed(o);
    } else if (in instanceof Input.Round r) {
      round(r);
    } else if (in instanceof Input.AppFailed f) {
      failures.failed(f.tag(), f.now());
      roundWanted = true;
    } else if (in instanceof Input.WriteDone d) {
      writeDone(d);
    } else if (in instanceof Input.WriteUnknown u) {
      // possibly applied: until the replica shows the app past the version written over, nothing of it starts here
      String tag = u.commit().updated().tag();
      uncertain.put(tag, u.commit().updated().version());
      settleAt.putIfAbsent(tag, lastNow + SETTLE_AFTER_NANOS);
      roundWanted = true;
    } else if (in instanceof Input.Members m) {
      members(m);
    } else if (in == Input.Changed.INSTANCE) {
      roundWanted = true;
    }
  }

  /** True when an input since the last round changed something a decision reads (the driver then takes a round). */
  public boolean wantsRound(long now) { return roundWanted || now >= wakeAt; }

  public Ready ready() {
    if (actions.isEmpty() && commits.isEmpty() && events.isEmpty() && routes == null && measures.isEmpty()) {
      return wakeAt == Long.MAX_VALUE ? Ready.NONE : new Ready(List.of(), List.of(), List.of(), null, List.of(), wakeAt);
    }
    return new Ready(List.copyOf(actions), List.copyOf(commits), List.copyOf(events), routes, List.copyOf(measures), wakeAt);
  }

  /** The caller carried out {@code done} (and fed back its commits' results). */
  public void advance(Ready done) {
    actions.clear();
    commits.clear();
    events.clear();
    measures.clear();
    if (done.routes() != null) routes = null;
  }

  public NodeStatus status() {
    if (statusStale) {
      status = new NodeStatus(Map.copyOf(peers), failures.copy(), Set.copyOf(uncertain.keySet()), mustApply,
          failures.readiness(unmet, lastNow));
      statusStale = false;
    }
    return status;
  }

  /**
   * A node's view for the decision rules, from its published status and a round's local facts: what the API's why and
   * simulate explain from any thread, and what a round decides from.
   */
  public static LocalView view(String self, NodeStatus st, Input.Round in) {
    // current only once this life's lease write is applied: before it, a restarted agent's replica may still be
    // replaying its log from an index before the apps it adopted were even added
    boolean current = in.leaseWriteIndex() > 0 && in.appliedIndex() >= Math.max(st.mustApply(), in.leaseWriteIndex());
    Map<String, PeerView> pv = new HashMap<>();
    for (PeerStatus p : st.peers().values()) {
      Input.LeaseSeen l = in.leases().getOrDefault(p.server(), new Input.LeaseSeen(true, 0, false));
      pv.put(p.server(), new PeerView(p.server(), p.verdict(), p.sinceNanos(), l.expired() && current, l.version(), l.revoked(),
          l.parting()));
    }
    return new LocalView(self, in.leaseValid(), in.instances(), pv, Map.copyOf(in.unmet()), in.uplinkOk(), st.failures(),
        current, st.uncertain());
  }

  // ---- detection -------------------------------------------------------------------------------------------------

  private void observed(Input.Observed o) {
    long now = o.now();
    for (Input.Seen s : o.peers()) {
      Verdict v = VerdictRules.verdict(s.lanOk(), s.disk(), s.leaseExpired(), s.uplinkOk());
      PeerStatus prev = peers.get(s.server());
      if (s.ackNanos() != null) lastAck.put(s.server(), s.ackNanos());
      if (v == Verdict.DOWN && prev != null && prev.verdict() != Verdict.DOWN && s.ackNanos() != null) {
        measures.add(new Ready.Measure(Ready.Measure.Kind.DETECTION, (now - s.ackNanos()) / 1e9));
      }
      // an expiry under an unchanged verdict (already DOWN on LAN loss) is what lets a takeover go ahead: decide now
      if (prev != null && prev.leaseExpired() != s.leaseExpired()) roundWanted = true;
      // a peer is observed once its lease is known and it was heard at least once or its lease ran out: at formation, a
      // lease read before the peer's first heartbeat answer is no sign of a server that was down
      boolean observed = s.leaseKnown() && (s.ackNanos() != null || s.leaseExpired());
      if (prev == null || prev.verdict() != v) {
        peers.put(s.server(), new PeerStatus(s.server(), v, now, observed ? o.wallMillis() : 0, s.lanOk(), s.disk(),
            s.leaseExpired(), s.uplinkOk()));
        if (prev != null) {
          String evidence = "(LAN " + (s.lanOk() ? "ok" : "lost") + ", disk " + s.disk() + ", lease "
              + (s.leaseExpired() ? "expired" : "current") + ")";
          log.accept("sees " + s.server() + " " + prev.verdict() + " -> " + v + " " + evidence);
          // at cluster formation every peer goes UP, DOWN (no lease yet), UP: only an observed verdict's change is news
          if (prev.sinceWallMillis() > 0) {
            events.add(event(v == Verdict.DOWN ? "SERVER_DOWN" : "SERVER_" + v, null,
                self + " sees " + s.server() + " " + v + " " + evidence, Map.of("subject", s.server())));
          }
        }
        roundWanted = true;
      } else {
        // a verdict that holds on as it becomes observed is observed from now, without an event of its own
        long since = prev.sinceWallMillis() == 0 && observed ? o.wallMillis() : prev.sinceWallMillis();
        peers.put(s.server(), new PeerStatus(s.server(), v, prev.sinceNanos(), since, s.lanOk(), s.disk(), s.leaseExpired(),
            s.uplinkOk()));
      }
    }
  }

  private void members(Input.Members m) {
    for (String p : m.peers()) {
      if (!p.equals(self)) {
        peers.putIfAbsent(p, new PeerStatus(p, Verdict.DOWN, m.now(), 0, false, m.initialDisk(), true, true));
      }
    }
    peers.keySet().retainAll(m.peers());
  }

  // ---- the decision round ----------------------------------------------------------------------------------------

  private void round(Input.Round in) {
    long now = in.now();
    lastNow = now;
    roundWanted = false;
    ClusterSnapshot snap = in.snapshot();
    unmet = Map.copyOf(in.unmet());
    failures.forget(snap, now);
    uncertain.entrySet().removeIf(e -> {
      App a = snap.apps().get(e.getKey());
      return a == null || a.version() != e.getValue();
    });
    settleAt.keySet().retainAll(uncertain.keySet());
    statusStale = true;
    LocalView view = view(self, status(), in);
    updateRoutes(snap, in);
    if (in.leader() && now - lastUnprotectedCheck >= UNPROTECTED_CHECK_NANOS) {
      lastUnprotectedCheck = now;
      warnUnprotected(snap, view, now);
    }
    long untilTimed = Decider.nanosUntilTimedChange(snap, view, settings, now);
    List<Action> decided = Decider.decide(snap, view, settings, now);
    if (!decided.isEmpty()) untilTimed = Math.min(untilTimed, BUSY_ROUND_NANOS);
    wakeAt = untilTimed == Long.MAX_VALUE ? Long.MAX_VALUE : now + untilTimed;
    handovers.completed(snap, now, measures);
    for (Action a : decided) {
      if (a instanceof Action.Commit c) commits.add(handovers.committing(withSilence(c, now), now));
      else if (a instanceof Action.Notify n) events.add(n.event());
      else actions.add(a);
      if (a instanceof Action.Stop st) handovers.stopping(st.tag(), now);
    }
    settleUnknownOutcomes(snap, now);
  }

  /**
   * R4b: a write whose outcome is unknown may still apply, so nothing of its app starts here until the replica shows the
   * app at another version. A write that was lost never shows, and the app would wait for ever (found by the
   * simulation: a host cut off from the database while committing never restarted its own app). A settling write ends
   * the doubt: the app rewritten unchanged, conditional on the same version. Applied, the lost write can never apply
   * after it; refused, the lost write (or another) did apply. Either way the replica then shows another version.
   */
  private void settleUnknownOutcomes(ClusterSnapshot snap, long now) {
    for (var e : uncertain.entrySet()) {
      String tag = e.getKey();
      App a = snap.apps().get(tag);
      long due = settleAt.getOrDefault(tag, now);
      if (a == null || now < due || commits.stream().anyMatch(c -> c.updated().tag().equals(tag))) {
        if (now < due) wakeAt = Math.min(wakeAt, due);
        continue;
      }
      commits.add(Action.Commit.of(a, null));
      settleAt.put(tag, now + SETTLE_AFTER_NANOS);
      wakeAt = Math.min(wakeAt, now + SETTLE_AFTER_NANOS);
    }
  }

  /**
   * Client rerouting: each app's cluster port forwards to its host, but only to a host that runs it (not STARTING) and
   * that this node does not believe DOWN; otherwise new connections wait. Addresses come from the node's own member
   * list, so it never forwards to anything but a cluster server.
   */
  private void updateRoutes(ClusterSnapshot snap, Input.Round in) {
    List<RouteTarget> out = new ArrayList<>();
    for (App a : snap.apps().values()) {
      if (a.service() == null) continue;
      String to = null;
      if (a.hasHost() && a.state() != AppState.STARTING && in.addresses().containsKey(a.host())) {
        PeerStatus ps = peers.get(a.host());
        boolean reachable = a.host().equals(self) ? in.leaseValid() : ps != null && ps.verdict() != Verdict.DOWN;
        if (reachable) to = in.addresses().get(a.host());
      }
      out.add(new RouteTarget(a.tag(), a.service().clusterPort(), to, a.service().appPort()));
    }
    if (!out.equals(lastRoutes)) {
      lastRoutes = List.copyOf(out);
      routes = lastRoutes;
    }
  }

  /**
   * Takeover readiness: the database's leader warns at once, not at 3 a.m. during the failover, when an app has no
   * backup that could take it now, and says why for each.
   */
  private void warnUnprotected(ClusterSnapshot snap, LocalView view, long now) {
    for (App a : snap.apps().values()) {
      if (!a.hasHost()) continue;
      List<String> reasons = new ArrayList<>();
      boolean any = false;
      for (String s : a.servers()) {
        if (s.equals(a.host())) continue;
        if (Decider.qualifies(s, a, snap, view, settings, now)) {
          any = true;
          break;
        }
        List<String> miss = Decider.missingOn(s, a, snap, view, settings, now);
        PeerStatus ps = peers.get(s);
        PeerView pv = view.peers().get(s);
        reasons.add(s + (!miss.isEmpty() ? " lacks " + String.join(", ", miss)
            : " is " + (s.equals(self) ? "this agent without a lease" : pv != null && pv.restarting() ? "restarting"
                : ps == null ? "unknown" : ps.verdict())));
      }
      if (any) {
        unprotected.remove(a.tag());
      } else if (unprotected.add(a.tag())) {
        events.add(event("NO_QUALIFIED_BACKUP", a.tag(), "WARNING: " + a.tag() + " on " + a.host()
            + " has no backup that could take it now: " + String.join("; ", reasons), Map.of()));
      }
    }
  }

  // ---- write results ---------------------------------------------------------------------------------------------

  private void writeDone(Input.WriteDone d) {
    App updated = d.commit().updated();
    uncertain.remove(updated.tag(), updated.version());
    roundWanted = true;
    if (!d.ok()) {
      // the write that beat ours: decide again only from a replica that has applied it
      if (d.actualVersion() != null) mustApply = Math.max(mustApply, d.actualVersion());
      return;
    }
    mustApply = Math.max(mustApply, d.version());
    Event ev = d.commit().event();
    if (ev != null) log.accept(ev.kind() + ": " + ev.message());
    if (d.commit().leaseServer() != null) {
      PeerStatus ps = peers.get(d.commit().leaseServer());
      takeovers.put(updated.tag(), new long[] {updated.epoch(), ps == null ? d.now() : ps.sinceNanos()});
    } else if (updated.state() == AppState.RUNNING) {
      long[] t = takeovers.remove(updated.tag());
      if (t != null && t[0] == updated.epoch()) {
        double secs = (d.now() - t[1]) / 1e9;
        measures.add(new Ready.Measure(Ready.Measure.Kind.FAILOVER, secs));
        events.add(event("FAILOVER_DONE", updated.tag(), String.format(Locale.ROOT,
            "%s took over %s at epoch %d in %.0f ms (from the DOWN verdict to RUNNING)", self, updated.tag(), updated.epoch(),
            secs * 1000), Map.of("failoverMs", String.valueOf(Math.round(secs * 1000)), "epoch", String.valueOf(updated.epoch()))));
      }
    }
  }

  /** A takeover's event gains {@code silentForMs}: since the failed host's last LAN answer, where its outage began. */
  private Action.Commit withSilence(Action.Commit c, long now) {
    Long ack = c.leaseServer() == null || c.event() == null ? null : lastAck.get(c.leaseServer());
    if (ack == null) return c;
    return new Action.Commit(c.updated(), c.leaseServer(), c.leaseVersion(),
        c.event().withDetail("silentForMs", String.valueOf(Math.max(0, (now - ack) / 1_000_000))));
  }

  private Event event(String kind, String app, String message, Map<String, String> details) {
    return new Event(null, 0, kind, self, app, message, details);
  }
}
