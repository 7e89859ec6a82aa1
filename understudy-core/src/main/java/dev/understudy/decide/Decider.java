package dev.understudy.decide;

import dev.understudy.decide.Action.Commit;
import dev.understudy.decide.Action.Start;
import dev.understudy.decide.Action.Stop;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.Event;
import dev.understudy.model.ServerRecord;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every rule of the patent's flows (FIG. 3C, 3D, 6, 7A, 7B, 8, 9) as one pure function:
 * (database snapshot, local view, settings, now) -> actions. No I/O, no clock, no threads.
 *
 * <p>Safety rests on three rules: a process runs only at the epoch the database names for this host
 * (anything else is stopped first); a host hands an app over only after its own process is gone; a server
 * takes over from a host only when that host's lease has certainly expired, conditionally on the lease
 * record it observed, and by a compare-and-set that bumps the epoch.
 */
public final class Decider {
  private Decider() {}

  public static List<Action> decide(ClusterSnapshot db, LocalView me, Settings s, long now) {
    List<Action> out = new ArrayList<>();
    for (Instance inst : me.instances().values()) {
      if (!db.apps().containsKey(inst.tag()) && inst.phase() != Instance.Phase.STOPPING) {
        if (me.replicaCurrent()) out.add(new Stop(inst.tag(), "app was removed from the cluster"));
        else if (!me.leaseValid()) out.add(new Stop(inst.tag(), "this server's lease is not current"));
      }
    }
    for (App a : db.apps().values()) decideApp(a, db, me, s, now, out);
    return out;
  }

  /**
   * How long from {@code now} until time alone could change what {@link #decide} returns: the failback hold of a
   * primary that came back running out, a crash leaving the restart window. MAX_VALUE when nothing waits on the clock.
   * Everything else a decision reads (the database, verdicts, leases, this server's processes) wakes the agent's loop
   * when it changes, so the loop sleeps until this instant and needs no frequent rounds to notice time passing.
   */
  public static long nanosUntilTimedChange(ClusterSnapshot db, LocalView me, Settings s, long now) {
    long next = Long.MAX_VALUE;
    for (App a : db.apps().values()) {
      if (!me.self().equals(a.host()) || me.self().equals(a.primary()) || !a.displaced()) continue;
      PeerView p = me.peers().get(a.primary());
      if (p == null || p.verdict() != Verdict.UP) continue;
      long left = p.sinceNanos() + s.failbackHold().toNanos() - now; // handoff: UP for at least the hold
      if (left > 0) next = Math.min(next, left);
    }
    for (List<Long> failures : me.failureNanos().values()) {
      next = Math.min(next, FailurePolicy.nanosUntilOldestExpires(failures, s, now));
    }
    for (App a : db.apps().values()) { // a host waiting out its backoff before a retry here
      if (!me.self().equals(a.host()) || me.instances().containsKey(a.tag())) continue;
      long left = FailurePolicy.nanosUntilRetry(me.failuresOf(a.tag()), s, now);
      if (left > 0) next = Math.min(next, left);
    }
    return next;
  }

  private static void decideApp(App a, ClusterSnapshot db, LocalView me, Settings s, long now, List<Action> out) {
    String self = me.self();
    Instance inst = me.instances().get(a.tag());
    boolean mine = self.equals(a.host());
    boolean stopping = inst != null && inst.phase() == Instance.Phase.STOPPING;

    // Maintenance (the cluster's, or this app unmanaged): no start, move or takeover; only a process that must not run
    // (another server is the host, or an older epoch, or this server has no lease) is stopped, as the fence would.
    if (db.maintenance().handsOff(a.tag())) {
      boolean stale = inst != null && !stopping && (!mine || inst.epoch() != a.epoch()) && !inst.standby()
          && me.replicaCurrent();
      if (stale || (inst != null && !stopping && !me.leaseValid())) {
        out.add(new Stop(a.tag(), stale ? "host is now " + (a.hasHost() ? a.host() + " at epoch " + a.epoch() : "nobody")
            : "this server's lease is not current"));
      }
      return;
    }

    // Warm standby: a paused aware instance is kept while this server is the one that would take over next, and is
    // promoted (not restarted) once this server is the host.
    if (inst != null && !stopping && inst.standby() && warmStandby(a)) {
      if (mine && me.leaseValid()) {
        out.add(new Action.Promote(a));
        return;
      }
      if (!mine && me.leaseValid() && self.equals(standbyServer(a, db, me, s, now))) {
        if (a.hasHost()) decideTakeover(a, db, me, s, now, out); // the standby is this server: it takes over when due
        return;
      }
      out.add(new Stop(a.tag(), "no longer the warm standby of " + a.tag()));
      return;
    }
    // Fencing first: a local process not at the epoch the database names for this host must go.
    if (inst != null && !stopping && (!mine || inst.epoch() != a.epoch())) {
      // A replica that has not applied this node's own writes (a restarted agent's, replaying its log before its first
      // lease write of this life) shows an older database: no reason to stop what runs. The lease (R2) still is.
      if (!me.replicaCurrent()) {
        if (!me.leaseValid()) out.add(new Stop(a.tag(), "this server's lease is not current"));
        return;
      }
      out.add(new Stop(a.tag(), mine ? "stale epoch " + inst.epoch() + " (now " + a.epoch() + ")"
          : "host is now " + (a.hasHost() ? a.host() : "nobody")));
      return;
    }
    // Without a lease this server may neither run nor take anything.
    if (!me.leaseValid()) {
      if (inst != null && !stopping) out.add(new Stop(a.tag(), "this server's lease is not current"));
      return;
    }
    if (mine) {
      decideAsHost(a, db, me, s, now, inst, out);
    } else if (a.hasHost()) {
      if (inst == null && me.replicaCurrent() && warmStandby(a) && self.equals(standbyServer(a, db, me, s, now))) {
        out.add(new Start(a, true)); // pre-start paused: a failover or failback only has to release it
      }
      decideTakeover(a, db, me, s, now, out);
    } else if (a.state() == AppState.UNPLACED || a.state() == AppState.FAILED) {
      firstCandidate(a, db, me, s, now, null).filter(self::equals).ifPresent(c -> {
        String why = "placed on " + self;
        // away from its primary for want of a server, not by an operator's choice: it goes home once the primary can
        App placed = self.equals(a.primary()) ? a.movedTo(self, AppState.STARTING, why) : a.displacedTo(self, AppState.STARTING, why);
        out.add(Commit.of(placed, event("PLACED", a, self + " has what " + a.tag() + " needs and takes it")));
      });
    }
    // host empty and UNLOADED: an operator unloaded it; nothing restarts it until load.
  }

  private static void decideAsHost(App a, ClusterSnapshot db, LocalView me, Settings s, long now, Instance inst,
                                   List<Action> out) {
    String self = me.self();
    boolean stopping = inst != null && inst.phase() == Instance.Phase.STOPPING;
    Handoff h = handoff(a, db, me, s, now);
    if (h.pendingApproval && a.state() != AppState.FAILBACK_PENDING && inst != null
        && inst.phase() == Instance.Phase.RUNNING) {
      out.add(Commit.of(a.withState(AppState.FAILBACK_PENDING, "primary " + a.primary() + " is back; approve failback"),
          event("FAILBACK_PENDING", a, "primary " + a.primary() + " is UP again; " + a.tag()
              + " stays on " + self + " until an operator approves the failback")));
      return;
    }
    if (h.remove) {
      if (inst != null) {
        if (!stopping) out.add(new Stop(a.tag(), "removed by an operator"));
        return;
      }
      out.add(Commit.of(a.withState(AppState.REMOVED, "removed by an operator"),
          event("REMOVED", a, a.tag() + " stopped on " + self + " and removed")));
      return;
    }
    if (h.unload) {
      if (inst != null) {
        if (!stopping) out.add(new Stop(a.tag(), "unloaded by an operator"));
        return;
      }
      out.add(Commit.of(a.movedTo(null, AppState.UNLOADED, "unloaded by an operator"),
          event("UNLOADED", a, a.tag() + " stopped on " + self + " and unloaded")));
      return;
    }
    if (h.clearTarget != null) {
      out.add(Commit.of(a.withTarget(null), event("MOVE_REFUSED", a, h.clearTarget)));
      return;
    }
    if (h.to != null) {
      if (inst != null) {
        if (!stopping) out.add(new Stop(a.tag(), h.why));
        return; // hand over only once our own process is verified gone
      }
      // only an operator's choice is sticky; any move forced by a failure goes home when the primary can take it again
      boolean forced = !h.kind.equals("MOVE") && !h.kind.equals("FAILBACK");
      App moved = forced ? a.displacedTo(h.to, AppState.STARTING, h.why) : a.movedTo(h.to, AppState.STARTING, h.why);
      out.add(Commit.of(moved, event(h.kind, a, h.why)));
      return;
    }
    if (h.unplaced != null) {
      if (inst != null) {
        if (!stopping) out.add(new Stop(a.tag(), h.unplaced));
        return;
      }
      boolean failed = h.kind.equals("CRASH_LOOP");
      out.add(Commit.of(a.movedTo(null, failed ? AppState.FAILED : AppState.UNPLACED, h.unplaced),
          event(failed ? "APP_FAILED" : "UNPLACED", a, h.unplaced)));
      return;
    }
    if (inst == null) {
      // R4: never start from a replica behind our own writes, nor past a write of ours whose outcome is unknown
      if (!me.replicaCurrent() || me.uncertain().contains(a.tag())) return;
      if (FailurePolicy.nanosUntilRetry(me.failuresOf(a.tag()), s, now) > 0) return; // backing off after a failure
      out.add(new Start(a));
      return;
    }
    if (inst.phase() == Instance.Phase.RUNNING) {
      boolean backToRunning = a.state() == AppState.STARTING || a.state() == AppState.UNPLACED
          || (a.state() == AppState.FAILBACK_PENDING && !h.pendingApproval);
      if (backToRunning) {
        out.add(Commit.of(a.withState(AppState.RUNNING, null), event("RUNNING", a, a.tag() + " runs on " + self
            + " at epoch " + a.epoch(), Map.of("epoch", String.valueOf(a.epoch())))));
      }
    }
  }

  /** Where (if anywhere) the host should hand the app, and why. */
  private static Handoff handoff(App a, ClusterSnapshot db, LocalView me, Settings s, long now) {
    String self = me.self();
    Handoff h = new Handoff();
    if (a.beingRemoved()) {
      h.remove = true;
      return h;
    }
    if (App.UNLOAD.equals(a.target())) {
      h.unload = true;
      return h;
    }
    if (a.target() != null && !a.target().equals(self)) {
      String t = a.target();
      PeerView pv = me.peers().get(t);
      List<String> missing = missingOn(t, a, db, me, s, now);
      if (pv != null && pv.restarting()) {
        return h; // the move waits for the target's next life; its lease running out ends the wait as DOWN
      } else if (pv == null || pv.verdict() != Verdict.UP) {
        h.clearTarget = "cannot move " + a.tag() + " to " + t + ": " + t + " is " + (pv == null ? "unknown" : pv.verdict());
      } else if (db.maintenance().drained(t)) {
        h.clearTarget = "cannot move " + a.tag() + " to " + t + ": " + t + " is drained (server resume " + t + ")";
      } else if (!missing.isEmpty()) {
        h.clearTarget = "cannot move " + a.tag() + " to " + t + ": it lacks " + String.join(", ", missing);
      } else {
        h.to = t;
        h.kind = t.equals(a.primary()) ? "FAILBACK" : "MOVE";
        h.why = (t.equals(a.primary()) ? "failback to primary " : "move to ") + t;
      }
      return h;
    }
    if (a.target() != null) return h; // target is this server: nothing to do, the target is cleared on the next move
    List<String> mineMissing = me.unmetFor(a.tag());
    if (!mineMissing.isEmpty()) return elsewhere(h, a, db, me, s, now, "MISSING_RESOURCE",
        self + " lacks " + String.join(", ", mineMissing));
    if (!me.uplinkOk()) return elsewhere(h, a, db, me, s, now, "UPLINK_LOST", self + " lost its uplink");
    // one app at a time leaves a drained server: the next goes once this one is stopped here
    if (db.maintenance().drained(self) && !handingOverAnother(a, me)) {
      return elsewhere(h, a, db, me, s, now, "DRAIN", self + " is being drained");
    }
    if (FailurePolicy.passedOver(me.failuresOf(a.tag()), s, now)) return elsewhere(h, a, db, me, s, now, "CRASH_LOOP",
        a.tag() + " failed " + FailurePolicy.counted(me.failuresOf(a.tag()), s, now) + " times within "
            + FailurePolicy.Durations.text(s.restartWindow()) + " on " + self);
    if (!self.equals(a.primary()) && a.displaced()) { // failback undoes a failure, never an operator's move
      PeerView p = me.peers().get(a.primary());
      boolean primaryBack = p != null && p.verdict() == Verdict.UP && !p.restarting()
          && now - p.sinceNanos() >= s.failbackHold().toNanos()
          && missingOn(a.primary(), a, db, me, s, now).isEmpty() && uplinkOk(db, a.primary())
          && !db.maintenance().drained(a.primary());
      if (primaryBack) {
        if (a.autoFailback()) {
          h.to = a.primary();
          h.kind = "FAILBACK";
          h.why = "failback to primary " + a.primary() + " (UP for " + (now - p.sinceNanos()) / 1_000_000 + " ms)";
        } else {
          h.pendingApproval = true;
        }
      }
    }
    return h;
  }

  /** Another app of this server is being stopped here (to be handed over): a drain moves one app at a time. */
  private static boolean handingOverAnother(App a, LocalView me) {
    for (Instance i : me.instances().values()) {
      if (!i.tag().equals(a.tag()) && i.phase() == Instance.Phase.STOPPING) return true;
    }
    return false;
  }

  private static Handoff elsewhere(Handoff h, App a, ClusterSnapshot db, LocalView me, Settings s, long now, String kind,
                                  String why) {
    Optional<String> next = firstCandidate(a, db, me, s, now, me.self());
    if (next.isPresent()) {
      h.to = next.get();
      h.kind = kind;
      h.why = why + "; moving to " + h.to;
    } else if (kind.equals("MISSING_RESOURCE")) {
      h.kind = kind;
      h.unplaced = why + "; no other server is UP with what " + a.tag() + " needs";
    } else if (kind.equals("CRASH_LOOP")) {
      h.kind = kind;
      h.unplaced = why + "; no other server can run it now: FAILED until a failure expires, a server that can run it comes back, or an operator resets it";
    }
    // UPLINK_LOST with nowhere to go: keep running here, a degraded host beats no host.
    return h;
  }

  /** FIG. 7A / 9: the first live, qualified server in order takes over from a host that is DOWN with its lease gone. */
  private static void decideTakeover(App a, ClusterSnapshot db, LocalView me, Settings s, long now, List<Action> out) {
    PeerView host = me.peers().get(a.host());
    if (host == null || host.verdict() != Verdict.DOWN || !(host.leaseExpired() || host.leaseRevoked())) return;
    if (a.beingRemoved()) { // the host died while the app was being removed: finish the remove, start nothing
      if (!me.self().equals(firstServerUp(a, me))) return;
      out.add(new Commit(a.withState(AppState.REMOVED, "removed by an operator (host " + a.host() + " is DOWN)"),
          a.host(), host.leaseVersion(), event("REMOVED", a, a.tag() + " removed; its host " + a.host() + " is DOWN")));
      return;
    }
    if (App.UNLOAD.equals(a.target())) { // the host died while being unloaded: finish the unload, start nothing
      if (!me.self().equals(firstServerUp(a, me))) return;
      out.add(new Commit(a.movedTo(null, AppState.UNLOADED, "unloaded by an operator (host " + a.host() + " is DOWN)"),
          a.host(), host.leaseVersion(), event("UNLOADED", a, a.tag() + " unloaded; its host " + a.host() + " is DOWN")));
      return;
    }
    Optional<String> cand = firstCandidate(a, db, me, s, now, a.host());
    if (cand.isEmpty() || !cand.get().equals(me.self())) return;
    List<String> skipped = new ArrayList<>();
    for (String other : a.servers()) {
      if (other.equals(a.host()) || other.equals(me.self())) continue;
      if (a.servers().indexOf(other) > a.servers().indexOf(me.self())) break;
      List<String> miss = missingOn(other, a, db, me, s, now);
      skipped.add(other + (miss.isEmpty() ? " is not UP" : " lacks " + String.join(", ", miss)));
    }
    String why = "failover from " + a.host() + " (DOWN) to " + me.self()
        + (skipped.isEmpty() ? "" : " (skipped " + String.join("; ", skipped) + ")");
    out.add(new Commit(a.displacedTo(me.self(), AppState.STARTING, why), a.host(), host.leaseVersion(),
        event("FAILOVER", a, why, Map.of("failed", a.host(), "downForMs",
            String.valueOf(Math.max(0, (now - host.sinceNanos()) / 1_000_000))))));
  }

  /**
   * Candidates in order: the move target if any, then primary, then backups. A candidate must not be the excluded
   * server, must be UP (or be this server with a current lease), have what the app needs and a working uplink.
   */
  public static Optional<String> firstCandidate(App a, ClusterSnapshot db, LocalView me, Settings s, long now, String excluded) {
    Set<String> order = new LinkedHashSet<>();
    if (a.hasMoveTarget()) order.add(a.target());
    order.addAll(a.servers());
    for (String id : order) {
      if (id.equals(excluded)) continue;
      if (qualifies(id, a, db, me, s, now)) return Optional.of(id);
    }
    return Optional.empty();
  }

  /** An aware app that asked (attribute {@code understudy.warmStandby=true}) to run pre-started on its next host. */
  public static boolean warmStandby(App a) {
    return a.type() == dev.understudy.model.AppType.AWARE && "true".equals(a.attributes().get("understudy.warmStandby"))
        && a.target() == null;
  }

  /** Where a warm standby runs: the primary while a backup hosts (failback), else the first qualified backup. */
  static String standbyServer(App a, ClusterSnapshot db, LocalView me, Settings s, long now) {
    if (!a.hasHost()) return null;
    return firstCandidate(a, db, me, s, now, a.host()).orElse(null);
  }

  private static String firstServerUp(App a, LocalView me) {
    for (String id : a.servers()) {
      if (id.equals(a.host())) continue;
      PeerView pv = me.peers().get(id);
      if (id.equals(me.self()) ? me.leaseValid() : pv != null && pv.verdict() == Verdict.UP && !pv.restarting()) {
        return id;
      }
    }
    return null;
  }

  /**
   * Whether server {@code id} could take the app now (used by status and simulate too). Not a server whose agent is
   * stopping to restart: a hand-over to it would wait for its next life, while a server that is here could run the app.
   */
  public static boolean qualifies(String id, App a, ClusterSnapshot db, LocalView me, Settings s, long now) {
    ServerRecord rec = db.servers().get(id);
    if (rec != null && rec.witness()) return false;
    if (db.maintenance().drained(id)) return false; // nothing new goes to a drained server
    if (id.equals(me.self())) return me.leaseValid() && me.uplinkOk() && missingOn(id, a, db, me, s, now).isEmpty();
    PeerView pv = me.peers().get(id);
    return pv != null && pv.verdict() == Verdict.UP && !pv.restarting() && missingOn(id, a, db, me, s, now).isEmpty()
        && uplinkOk(db, id);
  }

  private static boolean uplinkOk(ClusterSnapshot db, String id) {
    ServerRecord r = db.servers().get(id);
    return r == null || r.uplinkOk();
  }

  /** Requirements of the app that server {@code id} reports missing (its own published evaluation). */
  public static List<String> missingOn(String id, App a, ClusterSnapshot db, LocalView me, Settings s, long now) {
    if (id.equals(me.self())) {
      List<Long> failures = me.failuresOf(a.tag());
      if (!FailurePolicy.passedOver(failures, s, now)) return me.unmetFor(a.tag());
      List<String> out = new ArrayList<>(me.unmetFor(a.tag()));
      out.add(FailurePolicy.reason(FailurePolicy.counted(failures, s, now), s));
      return out;
    }
    return db.readiness().getOrDefault(id, Map.of()).getOrDefault(a.tag(), List.of());
  }

  static Event event(String kind, App a, String message) { return event(kind, a, message, Map.of()); }

  static Event event(String kind, App a, String message, Map<String, String> details) {
    return new Event(null, 0, kind, null, a.tag(), message, details);
  }

  private static final class Handoff {
    String to;
    String kind;
    String why;
    String unplaced;
    String clearTarget;
    boolean pendingApproval;
    boolean unload;
    boolean remove;
  }
}
