package dev.understudy.sim;

import dev.understudy.agent.CommitOps;
import dev.understudy.core.Input;
import dev.understudy.core.NodeCore;
import dev.understudy.core.Ready;
import dev.understudy.decide.Action;
import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.decide.DiskState;
import dev.understudy.decide.Instance;
import dev.understudy.decide.Settings;
import dev.understudy.detect.HeartbeatPacket;
import dev.understudy.detect.LeaseBatcher;
import dev.understudy.detect.LeaseKeeper;
import dev.understudy.detect.LeaseTracker;
import dev.understudy.detect.Ticker;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.AppType;
import dev.understudy.model.Command;
import dev.understudy.model.Keys;
import dev.understudy.model.Lease;
import dev.understudy.model.Maintenance;
import dev.understudy.store.Change;
import dev.understudy.store.Entry;
import dev.understudy.store.InMemoryStore;
import dev.understudy.store.KvState;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.Store;
import dev.understudy.store.StoreUnavailableException;
import dev.understudy.store.TxnResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A deterministic simulation of a whole cluster in one thread: every server runs the production {@link NodeCore}, lease
 * keeper, batcher, tracker and commit transactions, over one linearizable in-memory database, replicas that lag, stall
 * and install snapshots, a fake clock, an in-memory LAN that loses, delays and duplicates renewal requests, and
 * simulated processes (that crash, fail at once or hang at start) with guards. Faults come from a seeded random
 * schedule; S1 is checked at every step.
 */
final class SimCluster {
  /** A safety or liveness rule turned off: the simulation must catch each. */
  enum Mutant {
    /** The fence does not kill a server's processes when its lease runs out (R2). */
    NO_GUARD,
    /** Starts are decided from a replica that may lack this server's own writes (R4). */
    NO_R4,
    /** A write whose outcome is unknown counts as not applied (R4b). */
    NO_UNCERTAIN,
    /** A start that never becomes healthy is never timed out (R5d). */
    NO_START_TIMEOUT,
    /** A snapshot install tells watchers nothing, so lease observations go stale (R4c; the code before #20's fix). */
    SILENT_SNAPSHOT,
    /** Observers count every lease by their own length, not the holder's (R3 across timing profiles). */
    OWN_LEASE_LENGTH,
    /** An agent stopping to restart with no app leaves no parting lease (R2b; the code before chaos seed 91986422732511). */
    NO_IDLE_PARTING
  }

  static final long START_TIMEOUT = Duration.ofSeconds(2).toNanos();
  static final long TICK = Duration.ofMillis(50).toNanos();
  static final Duration LEASE = Duration.ofMillis(1000);
  static final Duration GUARD = Duration.ofMillis(300);
  static final Duration MARGIN = Duration.ofMillis(100);
  /** Log entries a follower may lag before the leader sends it a snapshot instead (a purged log). */
  static final int PURGE_GAP = 100;
  static final long HB_TIMEOUT = Duration.ofMillis(500).toNanos();
  /** timing.restartGrace: how long a stopping agent's parting lease keeps its apps for its next life. */
  static final Duration RESTART_GRACE = Duration.ofSeconds(5);

  final Random rnd;
  final Set<Mutant> mutants;
  final long[] clock = {1_000_000_000L};
  final Ticker ticker = () -> clock[0];
  final InMemoryStore db = new InMemoryStore();
  final List<List<Change>> log = new ArrayList<>(); // log.get(i) = changes of index i+1
  final Map<String, Node> nodes = new LinkedHashMap<>();
  final Set<String> lanCut = new HashSet<>(); // "a|b"
  final List<String> trace = new ArrayList<>();
  final List<String> violations = new ArrayList<>();
  final Settings settings = new Settings(Duration.ofSeconds(2), 3, Duration.ofSeconds(60));
  int failovers;
  /** Apps whose every start fails at once (a wrong path in the command), and starts of each app so far. */
  final Set<String> broken = new HashSet<>();
  /** Apps whose starts hang (the process runs but never becomes healthy): for good, or until a time. */
  final Set<String> hung = new HashSet<>();
  final Map<String, Long> hungUntil = new HashMap<>();
  int appCount;
  /** The server that died for good in this schedule, if any: never restarted, not even by heal. */
  String gone;
  final Map<String, Integer> starts = new HashMap<>();
  long incarnationClock = 1000;

  /** A renewal request on its way to the leader's agent, delivered at {@code at} if the LAN still lets it through. */
  record Request(long at, Node to, String from, HeartbeatPacket.Renewal renewal) {}

  final List<Request> inFlight = new ArrayList<>();

  /** The Raft leader, as far as the simulation has one: the first node that is up and reaches the database. */
  Node leader() {
    for (Node n : nodes.values()) if (n.dbReachable()) return n;
    return null;
  }

  boolean lanReaches(Node a, Node b) { return !lanCut.contains(a.id + "|" + b.id) && !lanCut.contains(b.id + "|" + a.id); }

  /** One simulated process of an app: healthy from {@code healthyAt} (never, for a hung start), stopping at {@code stopAt}. */
  record Proc(String tag, long epoch, long startedAt, long healthyAt, long stopAt) {
    Proc stopping(long at) { return new Proc(tag, epoch, startedAt, healthyAt, at); }
  }

  final class Node {
    final String id;
    final TreeMap<String, Entry> replica = new TreeMap<>();
    long applied;
    LeaseKeeper keeper;
    LeaseTracker tracker;
    boolean dead;
    long pausedUntil;
    long dbCutUntil;
    long restartAt = -1;
    /**
     * A stop to restart (SIGTERM) that left a parting lease: its apps run on under the fence until then, and nothing
     * may fail over from this server before it, while it is stopped (F1). MIN_VALUE: none.
     */
    long partedUntil = Long.MIN_VALUE;
    /** The deadline this node last told its fence (as the agent does while it runs: a paused node tells nothing). */
    long fenceDeadline = Long.MIN_VALUE;
    /** Which of its wall clock's instants this node renews on (a clock step moves them). */
    int clockPhase;
    /** Replication stops until then (a slow follower); it then catches up by a snapshot install half the time. */
    long replicaStallUntil;
    /** The production core: every decision this node makes. */
    NodeCore core;
    final Map<String, Proc> procs = new HashMap<>();
    final Map<String, Long> lastAck = new HashMap<>();
    /** The store watch of this node's replica (its lease keeper's): told what {@link #replicate} applies. */
    final List<Consumer<List<Change>>> watchers = new ArrayList<>();
    /** This node's lease batcher, and its timer's tasks (run at the end of the node's step). */
    LeaseBatcher batcher;
    final List<Runnable> timerTasks = new ArrayList<>();
    final List<Long> timerDue = new ArrayList<>();

    final boolean relaxed;

    Node(String id, boolean relaxed) {
      this.id = id;
      this.relaxed = relaxed;
      boot();
    }

    void boot() {
      watchers.clear();
      timerTasks.clear();
      timerDue.clear();
      // one server on another timing profile (a longer lease, as `relaxed` beside `default`): observers must count its
      // lease by its own length
      Duration lease = relaxed ? LEASE.multipliedBy(3) : LEASE;
      keeper = new LeaseKeeper(id, store(), ticker, lease, relaxed ? MARGIN.multipliedBy(3) : MARGIN, GUARD, () -> ++incarnationClock);
      // renewals go as requests to the simulated Raft leader's agent, over the simulated LAN, as the agent sends them
      batcher = new LeaseBatcher(store(), this::writeBatch, () -> leader() == this, (task, ms) -> {
        timerTasks.add(task);
        timerDue.add(clock[0] + ms * 1_000_000L);
      }, 0, 200);
      keeper.batchThrough((inc, seq, rv) -> {
        Node l = leader();
        if (l == null) return false;
        var r = new HeartbeatPacket.Renewal(inc, seq, rv);
        if (l == this) batcher.offer(id, r);
        else if (lanReaches(this, l) && rnd.nextInt(20) != 0) {
          inFlight.add(new Request(clock[0] + rnd.nextInt(3) * TICK, l, id, r));
          // a duplicate, later (a retransmission): the batcher must not let an old request renew a revoked lease
          if (rnd.nextInt(20) == 0) inFlight.add(new Request(clock[0] + (1 + rnd.nextInt(10)) * TICK, l, id, r));
        }
        return true;
      });
      tracker = new LeaseTracker(ticker, LEASE, MARGIN);
      tracker.seed(list(Keys.LEASES), list(Keys.REVOCATIONS), list(Keys.PARTINGS));
      // an earlier life's parting lease: its apps (still in procs) are adopted, and run until this life holds a lease
      if (partedUntil > clock[0]) keeper.inherit(partedUntil);
      core = new NodeCore(id, settings, note -> { });
      core.step(new Input.Members(List.copyOf(nodes.keySet()), clock[0],
          DiskState.NOT_CONFIGURED));
      lastAck.clear();
      fenceDeadline = partedUntil > clock[0] ? partedUntil : Long.MIN_VALUE;
      partedUntil = Long.MIN_VALUE;
    }

    boolean paused() { return clock[0] < pausedUntil; }

    boolean up() { return !dead && !paused(); }

    boolean dbReachable() { return up() && clock[0] >= dbCutUntil; }

    List<Entry> list(String prefix) {
      List<Entry> out = new ArrayList<>();
      for (var e : replica.tailMap(prefix, true).entrySet()) {
        if (!e.getKey().startsWith(prefix)) break;
        out.add(e.getValue());
      }
      return out;
    }

    /** This node's view of the database: linearizable operations fail while cut off; local reads see its replica. */
    Store store() {
      Node n = this;
      return new Store() {
        public Optional<Entry> get(String key) { check(); return db.get(key); }
        public List<Entry> list(String prefix) { check(); return db.list(prefix); }
        public Optional<Entry> localGet(String key) { return Optional.ofNullable(n.replica.get(key)); }
        public List<Entry> localList(String prefix) { return n.list(prefix); }
        public TxnResult txn(List<Op> ops) { check(); return db.txn(ops); }
        public CompletableFuture<TxnResult> txnAsync(List<Op> ops) {
          try {
            return CompletableFuture.completedFuture(txn(ops));
          } catch (StoreUnavailableException e) {
            return CompletableFuture.failedFuture(e);
          }
        }
        public void watch(Consumer<List<Change>> l) { n.watchers.add(l); }
        public void close() { }
        private void check() { if (!n.dbReachable()) throw new StoreUnavailableException(n.id + " is cut off (simulated)", null); }
      };
    }

    /** Applies some of the log, as a follower does: a random lag, nothing while cut off or paused. */
    void replicate() {
      if (!dbReachable() || clock[0] < replicaStallUntil) return;
      if (replicaStallUntil > 0) {
        replicaStallUntil = 0;
        if (rnd.nextBoolean()) {
          installSnapshot();
          return;
        }
      }
      // a follower this far behind gets a snapshot: the leader has purged the entries it lacks (Ratis does the same)
      if (log.size() - applied > PURGE_GAP) {
        installSnapshot();
        return;
      }
      long target = Math.min(log.size(), applied + 1 + rnd.nextInt(6));
      while (applied < target) {
        List<Change> cs = log.get((int) applied);
        for (Change c : cs) {
          if (c.newValue() == null) replica.remove(c.key());
          else replica.put(c.key(), new Entry(c.key(), c.newValue(), c.version()));
        }
        observe(cs);
        for (var w : watchers) w.accept(cs);
        applied++;
      }
    }

    /**
     * A snapshot from the leader replaces the replica, as Ratis installs one on a follower too far behind; watchers
     * learn what it changed (KvState.diff, as the state machine tells them).
     */
    void installSnapshot() {
      Map<String, Entry> now = new TreeMap<>();
      for (Entry e : db.localList("")) now.put(e.key(), e);
      List<Change> cs = KvState.diff(replica, now, log.size());
      replica.clear();
      replica.putAll(now);
      applied = log.size();
      trace.add(t() + " " + id + " installs a snapshot at " + applied + " (" + cs.size() + " changes)");
      if (cs.isEmpty() || mutants.contains(Mutant.SILENT_SNAPSHOT)) return;
      observe(cs);
      for (var w : watchers) w.accept(cs);
    }

    /** The lease tracker reads what the replica applied (the mutant: with the holder's own lease length erased). */
    void observe(List<Change> cs) {
      if (!mutants.contains(Mutant.OWN_LEASE_LENGTH)) {
        tracker.onChanges(cs);
        return;
      }
      List<Change> erased = new ArrayList<>();
      for (Change c : cs) {
        if (!c.key().startsWith(Keys.LEASES) || c.newValue() == null) {
          erased.add(c);
          continue;
        }
        Lease l = Json.read(c.newValue(), Lease.class);
        erased.add(new Change(c.key(), c.oldValue(), Json.write(new Lease(l.server(), l.incarnation(), l.seq())), c.version()));
      }
      tracker.onChanges(erased);
    }

    /** Runs this node's timer tasks that are due (they may schedule more). */
    void runTimers() {
      for (int i = 0; i < timerTasks.size(); ) {
        if (timerDue.get(i) <= clock[0]) {
          timerDue.remove(i);
          timerTasks.remove(i).run();
          i = 0;
        } else {
          i++;
        }
      }
    }

    /** A batch entry: its transactions one after the other, each refused or applied on its own. */
    CompletableFuture<List<TxnResult>> writeBatch(List<List<Op>> txns) {
      List<TxnResult> out = new ArrayList<>();
      try {
        for (List<Op> t : txns) out.add(store().txn(t));
        return CompletableFuture.completedFuture(out);
      } catch (StoreUnavailableException e) {
        return CompletableFuture.failedFuture(e);
      }
    }

    boolean replicaCurrent() { return applied >= Math.max(core.status().mustApply(), keeper.lastWriteIndex()); }

    /** The detection round: LAN acks from the simulated network, the lease as this replica observes it. */
    void detect() {
      boolean current = replicaCurrent();
      List<Input.Seen> seen = new ArrayList<>();
      for (Node p : nodes.values()) {
        if (p == this) continue;
        if (p.up() && lanReaches(this, p)) lastAck.put(p.id, clock[0]);
        Long ack = lastAck.get(p.id);
        boolean lanOk = ack != null && clock[0] - ack <= HB_TIMEOUT;
        seen.add(new Input.Seen(p.id, lanOk, ack, DiskState.NOT_CONFIGURED, tracker.expired(p.id) && current, true,
            current && tracker.version(p.id) > 0));
      }
      core.step(new Input.Observed(clock[0], clock[0] / 1_000_000, seen));
    }

    void reconcile() {
      Map<String, App> apps = new LinkedHashMap<>();
      for (Entry e : list(Keys.APPS)) {
        App a = Json.read(e.value(), App.class).withVersion(e.version());
        apps.put(a.tag(), a);
      }
      Map<String, Map<String, List<String>>> readiness = new HashMap<>();
      for (Node n : nodes.values()) readiness.put(n.id, n.core.status().readiness()); // what each server published
      Map<String, Instance> inst = new HashMap<>();
      procs.forEach((t, p) -> inst.put(t, new Instance(t, p.epoch(), p.stopAt() > 0 ? Instance.Phase.STOPPING
          : clock[0] >= p.healthyAt() ? Instance.Phase.RUNNING : Instance.Phase.STARTING, p.startedAt())));
      Map<String, Input.LeaseSeen> leases = new HashMap<>();
      Map<String, String> addresses = new HashMap<>();
      for (Node p : nodes.values()) {
        addresses.put(p.id, p.id);
        if (p != this) leases.put(p.id, new Input.LeaseSeen(tracker.expired(p.id), tracker.version(p.id), tracker.revoked(p.id),
            tracker.parting(p.id)));
      }
      long appliedIndex = mutants.contains(Mutant.NO_R4) ? Long.MAX_VALUE : applied; // R4 off: always "current"
      Entry mt = replica.get(Keys.MAINTENANCE);
      Maintenance maintenance = mt == null ? Maintenance.NONE : Json.read(mt.value(), Maintenance.class);
      core.step(new Input.Round(clock[0], new ClusterSnapshot(apps, Map.of(), readiness, maintenance), appliedIndex, keeper.lastWriteIndex(),
          keeper.valid(), inst, Map.of(), true, leases, addresses, leader() == this));
      Ready r = core.ready();
      for (Action a : r.actions()) execute(a);
      for (Action.Commit c : r.commits()) commit(c);
      core.advance(r);
    }

    void execute(Action a) {
      if (a instanceof Action.Start s) {
        if (keeper.mayStart() && !procs.containsKey(s.app().tag())) {
          String tag = s.app().tag();
          long healthyAt = hung.contains(tag) || hungUntil.containsKey(tag) ? Long.MAX_VALUE : clock[0] + rnd.nextInt(4) * TICK;
          procs.put(tag, new Proc(tag, s.app().epoch(), clock[0], healthyAt, 0));
          starts.merge(tag, 1, Integer::sum);
          trace.add(t() + " " + id + " start " + tag + "@" + s.app().epoch());
        }
      } else if (a instanceof Action.Stop s) {
        Proc p = procs.get(s.tag());
        if (p != null && p.stopAt() == 0) {
          procs.put(s.tag(), p.stopping(clock[0] + rnd.nextInt(6) * TICK + 1));
          trace.add(t() + " " + id + " stop " + s.tag() + "@" + p.epoch() + " (" + s.reason() + ")");
        }
      }
    }

    /** A commit, as the agent's CommitSender sends it; its result (or its unknown outcome) goes back to the core. */
    void commit(Action.Commit c) {
      var ops = CommitOps.build(c, id, store()::localGet, null);
      if (ops.isEmpty()) return;
      String what = c.updated().tag() + " host=" + c.updated().host() + "@" + c.updated().epoch() + " " + c.updated().state();
      if (!dbReachable() || rnd.nextInt(10) == 0) {
        // the reply is lost (a leader change, a timeout, this server cut off): applied or not, this node cannot tell
        boolean applied = dbReachable() && rnd.nextBoolean() && db.txn(ops.get()).ok();
        // a reply is lost mostly because this server lost the leader for a while: its replica falls behind too
        replicaStallUntil = Math.max(replicaStallUntil, clock[0] + rnd.nextInt(20) * TICK);
        if (applied && c.leaseServer() != null) failovers++;
        if (!mutants.contains(Mutant.NO_UNCERTAIN)) core.step(new Input.WriteUnknown(c));
        trace.add(t() + " " + id + " commit " + what + ": outcome unknown (" + (applied ? "applied" : "not applied") + ")");
        return;
      }
      TxnResult r = db.txn(ops.get());
      core.step(new Input.WriteDone(c, r.ok(), r.version(), r.actualVersion(), clock[0]));
      if (r.ok()) {
        if (c.leaseServer() != null) {
          failovers++;
          Node from = nodes.get(c.leaseServer());
          if (from.dead && clock[0] < from.partedUntil) {
            violations.add(t() + " F1: " + c.updated().tag() + " failed over from " + from.id + ", which is only restarting");
          }
        }
        trace.add(t() + " " + id + " commit " + what);
      }
    }

    /** The supervisor's part: a start not healthy by its timeout is killed and counted as a failure. */
    void supervise() {
      for (var it = procs.values().iterator(); it.hasNext(); ) {
        Proc p = it.next();
        if (p.stopAt() > 0) continue;
        if (broken.contains(p.tag())) {
          it.remove(); // it exits at once, a failure here
          core.step(new Input.AppFailed(p.tag(), clock[0]));
          trace.add(t() + " " + id + " " + p.tag() + "@" + p.epoch() + " exits at once (broken)");
        } else if (clock[0] < p.healthyAt() && clock[0] - p.startedAt() > START_TIMEOUT && !mutants.contains(Mutant.NO_START_TIMEOUT)) {
          it.remove();
          core.step(new Input.AppFailed(p.tag(), clock[0]));
          trace.add(t() + " " + id + " " + p.tag() + "@" + p.epoch() + " killed: not healthy by its start timeout");
        }
      }
    }
  }

  SimCluster(long seed, int servers, int apps) { this(seed, servers, apps, EnumSet.noneOf(Mutant.class)); }

  SimCluster(long seed, int servers, int apps, Set<Mutant> mutants) {
    rnd = new Random(seed);
    this.mutants = mutants;
    // the log is indexed like Raft's: a refused transaction still takes an index (and changes nothing)
    db.watch(cs -> {
      long index = cs.get(0).version();
      while (log.size() < index - 1) log.add(List.of());
      log.add(cs);
    });
    for (int i = 1; i <= servers; i++) nodes.put("s" + i, null);
    for (int i = 1; i <= servers; i++) nodes.put("s" + i, new Node("s" + i, i == servers && rnd.nextBoolean()));
    List<String> ids = new ArrayList<>(nodes.keySet());
    appCount = apps;
    for (int i = 0; i < apps; i++) {
      String primary = ids.get(i % ids.size());
      List<String> backups = new ArrayList<>();
      for (int j = 1; j < Math.min(3, ids.size()); j++) backups.add(ids.get((i + j) % ids.size()));
      App a = App.create("a" + i, AppType.CAPABLE, Command.of("x"), primary, backups, List.of(), i % 2 == 0, null, Map.of());
      db.txn(List.of(Op.create(Keys.app(a.tag()), Json.write(a))));
    }
  }

  String t() { return String.format("%7.2fs", (clock[0] - 1_000_000_000L) / 1e9); }

  /** One step of 50 ms: faults, every live node's work, guards, process exits, and the S1 check. */
  void step(boolean faults) {
    clock[0] += TICK;
    long tick = clock[0] / TICK;
    if (faults && rnd.nextInt(20) == 0) injectFault();
    if (maintenanceEnds > 0 && clock[0] >= maintenanceEnds) {
      maintenanceEnds = 0;
      setMaintenance(Maintenance.NONE);
      trace.add(t() + " OPERATOR resume, maintenance off");
    }
    for (Node n : nodes.values()) {
      if (n.dead && n.restartAt >= 0 && clock[0] >= n.restartAt && !n.id.equals(gone)) {
        n.dead = false;
        n.restartAt = -1;
        n.boot();
        trace.add(t() + " " + n.id + " restarted");
      }
      if (!n.up()) continue;
      n.replicate();
      for (var it = inFlight.iterator(); it.hasNext(); ) {
        Request r = it.next();
        if (r.to() != n || r.at() > clock[0]) continue;
        it.remove();
        if (lanReaches(nodes.get(r.from()), n)) n.batcher.offer(r.from(), r.renewal());
      }
      // every node's rounds fall on the same instants, as they do on the wall clock
      // every node's rounds fall on the same instants of its wall clock; a node whose clock stepped renews at others
      if ((tick + n.clockPhase) % 4 == 0) n.keeper.renew(() -> n.procs.isEmpty());
      if ((tick + n.clockPhase) % 4 == 2) n.keeper.checkBatched();
      n.runTimers();
      n.fenceDeadline = n.keeper.runUntil();
      n.detect();
      n.reconcile();
    }
    hungUntil.values().removeIf(until -> clock[0] >= until);
    for (Node n : nodes.values()) {
      // the fence kills a node's processes at the last deadline the node told it
      if (!n.procs.isEmpty() && clock[0] >= n.fenceDeadline && !mutants.contains(Mutant.NO_GUARD)) {
        trace.add(t() + " " + n.id + " guard kills " + n.procs.keySet());
        n.procs.clear();
      }
      n.procs.values().removeIf(p -> p.stopAt() > 0 && clock[0] >= p.stopAt());
      if (!n.dead) n.supervise();
    }
    Map<String, List<String>> running = new HashMap<>();
    for (Node n : nodes.values()) {
      for (Proc p : n.procs.values()) running.computeIfAbsent(p.tag(), k -> new ArrayList<>()).add(n.id + "@" + p.epoch());
    }
    running.forEach((tag, where) -> {
      if (where.size() > 1) violations.add(t() + " S1: " + tag + " runs on " + where);
    });
  }

  void injectFault() {
    List<Node> ns = new ArrayList<>(nodes.values());
    Node n = ns.get(rnd.nextInt(ns.size()));
    long down = nodes.values().stream().filter(x -> x.dead || x.paused() || clock[0] < x.dbCutUntil).count();
    boolean mayHarm = down < (ns.size() - 1) / 2 || rnd.nextInt(4) == 0; // sometimes lose the majority too
    switch (rnd.nextInt(10)) {
      case 0 -> {
        if (!mayHarm || n.dead) return;
        if (rnd.nextInt(3) == 0) {
          stopToRestart(n);
          return;
        }
        n.dead = true;
        n.procs.clear(); // kill -9: the guard's pipe closes, its processes die at once
        n.restartAt = clock[0] + (10 + rnd.nextInt(90)) * TICK;
        // now and then a server that dies for good: its apps must move and stay moved (at most one per schedule)
        boolean forGood = gone == null && rnd.nextInt(4) == 0;
        if (forGood) gone = n.id;
        trace.add(t() + " FAULT kill -9 " + n.id + (forGood ? " (for good)" : ""));
      }
      case 1 -> {
        if (!mayHarm) return;
        n.pausedUntil = clock[0] + (2 + rnd.nextInt(60)) * TICK;
        trace.add(t() + " FAULT SIGSTOP " + n.id + " until " + String.format("%.2fs", (n.pausedUntil - 1e9) / 1e9));
      }
      case 2 -> {
        if (!mayHarm) return;
        n.dbCutUntil = clock[0] + (5 + rnd.nextInt(80)) * TICK;
        trace.add(t() + " FAULT db partition " + n.id);
      }
      case 3 -> {
        Node m = ns.get(rnd.nextInt(ns.size()));
        if (m == n) return;
        String k = n.id + "|" + m.id;
        lanCut.add(k);
        trace.add(t() + " FAULT LAN cut " + k);
        long until = clock[0] + (5 + rnd.nextInt(60)) * TICK;
        heals.add(new long[] {until, lanCut.size()});
        healKeys.add(k);
      }
      case 4 -> {
        if (n.procs.isEmpty()) return;
        String tag = n.procs.keySet().iterator().next();
        n.procs.remove(tag);
        n.core.step(new Input.AppFailed(tag, clock[0]));
        trace.add(t() + " FAULT crash " + tag + " on " + n.id);
      }
      case 5 -> {
        if (!mayHarm) return;
        n.replicaStallUntil = clock[0] + (5 + rnd.nextInt(60)) * TICK;
        trace.add(t() + " FAULT replica stalls on " + n.id);
      }
      case 6 -> {
        n.clockPhase = rnd.nextInt(4);
        trace.add(t() + " FAULT wall clock steps on " + n.id);
      }
      case 7 -> {
        String tag = "a" + rnd.nextInt(appCount);
        hungUntil.put(tag, clock[0] + (20 + rnd.nextInt(80)) * TICK);
        trace.add(t() + " FAULT starts of " + tag + " hang");
      }
      case 8 -> {
        // an operator drains a server, or puts the cluster in maintenance, for a while (step() ends it)
        if (!maintenance().isNone()) return;
        boolean drain = rnd.nextBoolean();
        setMaintenance(drain ? Maintenance.NONE.withDrained(n.id, true) : Maintenance.NONE.withCluster(true));
        maintenanceEnds = clock[0] + (10 + rnd.nextInt(60)) * TICK;
        trace.add(t() + " OPERATOR " + (drain ? "drain " + n.id : "maintenance on"));
      }
      default -> {
        List<Entry> apps = db.localList(Keys.APPS);
        Entry e = apps.get(rnd.nextInt(apps.size()));
        App a = Json.read(e.value(), App.class);
        String to = a.servers().get(rnd.nextInt(a.servers().size()));
        if (!a.hasHost() || to.equals(a.host())) return;
        db.txn(List.of(Op.put(e.key(), Json.write(a.withTarget(to).withVersion(0)), e.version())));
        trace.add(t() + " OPERATOR move " + a.tag() + " to " + to);
      }
    }
    // expire LAN cuts
    for (int i = heals.size() - 1; i >= 0; i--) {
      if (clock[0] >= heals.get(i)[0]) {
        lanCut.remove(healKeys.get(i));
        heals.remove(i);
        healKeys.remove(i);
      }
    }
  }

  /**
   * SIGTERM, as systemd's restart and an upgrade stop an agent: a parting lease (the production keeper's) keeps its
   * apps running under the fence for its next life to adopt; unconfirmed, they are stopped as by any stop. Back within
   * the grace mostly, and now and then too late, when the fence kills them and they fail over.
   */
  void stopToRestart(Node n) {
    boolean parts = !(mutants.contains(Mutant.NO_IDLE_PARTING) && n.procs.isEmpty());
    long until = parts ? n.keeper.part(RESTART_GRACE) : Long.MIN_VALUE;
    if (until == Long.MIN_VALUE || until <= clock[0]) {
      n.procs.clear();
      // the mutant's idle agent: the stop would have been announced, had it parted, so F1 still applies to it
      if (!parts && n.dbReachable() && n.keeper.valid()) n.partedUntil = clock[0] + RESTART_GRACE.toNanos() - MARGIN.toNanos();
    } else {
      n.partedUntil = until;
      n.fenceDeadline = until;
    }
    n.dead = true;
    long late = RESTART_GRACE.toNanos() / TICK + 10;
    n.restartAt = clock[0] + (rnd.nextInt(8) == 0 ? late + rnd.nextInt(40) : 10 + rnd.nextInt(60)) * TICK;
    trace.add(t() + " FAULT SIGTERM " + n.id + (n.partedUntil > clock[0] ? " (parting lease: " + n.procs.keySet() + " run on)" : ""));
  }

  final List<long[]> heals = new ArrayList<>();
  final List<String> healKeys = new ArrayList<>();

  /** Ends every fault; the operator resets apps that failed everywhere meanwhile (their cause is gone). */
  long maintenanceEnds;

  Maintenance maintenance() {
    return db.localGet(Keys.MAINTENANCE).map(e -> Json.read(e.value(), Maintenance.class)).orElse(Maintenance.NONE);
  }

  void setMaintenance(Maintenance m) {
    var cur = db.localGet(Keys.MAINTENANCE);
    db.txn(List.of(cur.isPresent() ? Op.put(Keys.MAINTENANCE, Json.write(m), cur.get().version()) : Op.create(Keys.MAINTENANCE, Json.write(m))));
  }

  void heal() {
    hungUntil.clear();
    maintenanceEnds = 0;
    if (!maintenance().isNone()) setMaintenance(Maintenance.NONE); // the operators are done: the cluster acts again
    resetFailedApps();
    lanCut.clear();
    for (Node n : nodes.values()) {
      n.pausedUntil = 0;
      n.dbCutUntil = 0;
      if (n.dead) n.restartAt = clock[0];
    }
  }

  /**
   * The operator resets the apps that failed everywhere (their cause is gone): at the heal, and again once the starts
   * that were already under way at the heal have ended (a start that hung before the heal is timed out after it, and
   * can be the failure that makes the app FAILED; seed 571).
   */
  void resetFailedApps() {
    for (Entry e : db.localList(Keys.APPS)) {
      App a = Json.read(e.value(), App.class).withVersion(e.version());
      if (a.state() == AppState.FAILED && !broken.contains(a.tag()) && !hung.contains(a.tag())) operator(a.withFailuresReset());
    }
  }

  String dump() {
    StringBuilder b = new StringBuilder();
    for (Node n : nodes.values()) {
      b.append(n.id).append(": dead=").append(n.dead).append(" lease=").append(n.keeper.valid()).append(" (").append(n.keeper.lostReason())
          .append(") applied=").append(n.applied).append("/").append(log.size()).append(" current=").append(n.replicaCurrent())
          .append(" verdicts=").append(n.core.status().peers().values().stream().map(p -> p.server() + ":" + p.verdict()).toList())
          .append(" procs=").append(n.procs.keySet()).append('\n');
    }
    for (Entry e : db.localList(Keys.APPS)) b.append(e.value()).append('\n');
    return b.toString();
  }

  App app(String tag) {
    Entry e = db.localGet(Keys.app(tag)).orElseThrow();
    return Json.read(e.value(), App.class).withVersion(e.version());
  }

  /** An operator's write of {@code next} over the version it was read at. */
  void operator(App next) {
    db.txn(List.of(Op.put(Keys.app(next.tag()), Json.write(next.withVersion(0)), next.version())));
    trace.add(t() + " OPERATOR writes " + next.tag());
  }

  /** L1 after healing: every app with a host runs there. */
  List<String> notRunning() {
    List<String> out = new ArrayList<>();
    for (Entry e : db.localList(Keys.APPS)) {
      App a = Json.read(e.value(), App.class);
      if (a.state() == AppState.UNLOADED || broken.contains(a.tag()) || hung.contains(a.tag())) continue;
      boolean runs = a.state() != AppState.STARTING && a.hasHost() && nodes.get(a.host()).procs.containsKey(a.tag());
      if (!runs) out.add(a.tag() + " (" + a.state() + " on " + a.host() + ")");
    }
    return out;
  }
}
