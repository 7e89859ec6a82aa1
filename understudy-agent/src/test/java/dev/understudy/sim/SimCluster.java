package dev.understudy.sim;

import dev.understudy.agent.CommitOps;
import dev.understudy.decide.Action;
import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.decide.Decider;
import dev.understudy.decide.Instance;
import dev.understudy.decide.LocalView;
import dev.understudy.decide.PeerView;
import dev.understudy.decide.Settings;
import dev.understudy.decide.Verdict;
import dev.understudy.decide.DiskState;
import dev.understudy.detect.HeartbeatPacket;
import dev.understudy.detect.LeaseBatcher;
import dev.understudy.detect.LeaseKeeper;
import dev.understudy.detect.LeaseTracker;
import dev.understudy.detect.Ticker;
import dev.understudy.decide.VerdictRules;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.AppType;
import dev.understudy.model.Command;
import dev.understudy.model.Keys;
import dev.understudy.store.Change;
import dev.understudy.store.Entry;
import dev.understudy.store.InMemoryStore;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.Store;
import dev.understudy.store.StoreUnavailableException;
import dev.understudy.store.TxnResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
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
 * A deterministic simulation of a whole cluster in one thread: the real decision rules, lease keeper, batcher and
 * tracker and commit transactions, over one linearizable in-memory database, replicas that lag, a fake clock, an in-memory LAN
 * and simulated processes with guards. Faults come from a seeded random schedule; S1 is checked at every step.
 */
final class SimCluster {
  static final long TICK = Duration.ofMillis(50).toNanos();
  static final Duration LEASE = Duration.ofMillis(1000);
  static final Duration GUARD = Duration.ofMillis(300);
  static final Duration MARGIN = Duration.ofMillis(100);
  static final long HB_TIMEOUT = Duration.ofMillis(500).toNanos();

  final Random rnd;
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

  /** One simulated process of an app. */
  record Proc(String tag, long epoch, long stopAt) {}

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
    /** The deadline this node last told its fence (as the agent does while it runs: a paused node tells nothing). */
    long fenceDeadline = Long.MIN_VALUE;
    long mustApply;
    final Map<String, Proc> procs = new HashMap<>();
    final Map<String, List<Long>> crashes = new HashMap<>();
    final Map<String, Long> resetsSeen = new HashMap<>();
    /** As the agent: apps this node wrote with an unknown outcome, by the version written over. */
    final Map<String, Long> uncertain = new HashMap<>();
    final Map<String, Long> lastAck = new HashMap<>();
    final Map<String, Verdict> verdict = new HashMap<>();
    final Map<String, Long> since = new HashMap<>();
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
        else if (lanReaches(this, l) && rnd.nextInt(20) != 0) inFlight.add(new Request(clock[0] + rnd.nextInt(3) * TICK, l, id, r));
        return true;
      });
      tracker = new LeaseTracker(ticker, LEASE, MARGIN);
      tracker.seed(list(Keys.LEASES), list(Keys.REVOCATIONS));
      mustApply = 0;
      crashes.clear();
      resetsSeen.clear();
      uncertain.clear();
      fenceDeadline = Long.MIN_VALUE;
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
      if (!dbReachable()) return;
      long target = Math.min(log.size(), applied + 1 + rnd.nextInt(6));
      while (applied < target) {
        List<Change> cs = log.get((int) applied);
        for (Change c : cs) {
          if (c.newValue() == null) replica.remove(c.key());
          else replica.put(c.key(), new Entry(c.key(), c.newValue(), c.version()));
        }
        tracker.onChanges(cs);
        for (var w : watchers) w.accept(cs);
        applied++;
      }
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

    boolean replicaCurrent() {
      return Boolean.getBoolean("sim.mutant.noR4") || applied >= Math.max(mustApply, keeper.lastWriteIndex());
    }

    void detect() {
      for (Node p : nodes.values()) {
        if (p == this) continue;
        boolean reach = p.up() && !lanCut.contains(id + "|" + p.id) && !lanCut.contains(p.id + "|" + id);
        if (reach) lastAck.put(p.id, clock[0]);
        boolean lanOk = lastAck.containsKey(p.id) && clock[0] - lastAck.get(p.id) <= HB_TIMEOUT;
        Verdict v = VerdictRules.verdict(lanOk, DiskState.NOT_CONFIGURED, tracker.expired(p.id) && replicaCurrent(), true);
        if (verdict.get(p.id) != v) {
          verdict.put(p.id, v);
          since.put(p.id, clock[0]);
        }
      }
    }

    void reconcile() {
      boolean current = replicaCurrent(); // before the snapshot (PROTOCOL.md R4)
      Map<String, App> apps = new LinkedHashMap<>();
      for (Entry e : list(Keys.APPS)) {
        App a = Json.read(e.value(), App.class).withVersion(e.version());
        apps.put(a.tag(), a);
        // as the agent: an operator's reset makes every server forget the failures it counted
        Long seen = resetsSeen.put(a.tag(), a.resets());
        if (seen != null && seen != a.resets()) crashes.remove(a.tag());
      }
      Map<String, Map<String, List<String>>> readiness = new HashMap<>();
      for (Node n : nodes.values()) { // what each server publishes: the apps it is passed over for
        n.crashes.forEach((tag, f) -> {
          if (dev.understudy.decide.FailurePolicy.passedOver(f, settings, clock[0])) {
            readiness.computeIfAbsent(n.id, k -> new HashMap<>()).put(tag, List.of("failed here"));
          }
        });
      }
      ClusterSnapshot snap = new ClusterSnapshot(apps, Map.of(), readiness);
      Map<String, PeerView> pv = new HashMap<>();
      for (var e : verdict.entrySet()) {
        pv.put(e.getKey(), new PeerView(e.getKey(), e.getValue(), since.get(e.getKey()),
            tracker.expired(e.getKey()) && current, tracker.version(e.getKey()), tracker.revoked(e.getKey())));
      }
      Map<String, Instance> inst = new HashMap<>();
      procs.forEach((t, p) -> inst.put(t, new Instance(t, p.epoch(), p.stopAt() > 0 ? Instance.Phase.STOPPING : Instance.Phase.RUNNING, 0)));
      Map<String, List<Long>> cr = new HashMap<>();
      crashes.forEach((k, v) -> cr.put(k, List.copyOf(v)));
      uncertain.entrySet().removeIf(e -> !apps.containsKey(e.getKey()) || apps.get(e.getKey()).version() != e.getValue());
      LocalView view = new LocalView(id, keeper.valid(), inst, pv, Map.of(), true, cr, current, Set.copyOf(uncertain.keySet()));
      for (Action a : Decider.decide(snap, view, settings, clock[0])) execute(a);
    }

    void execute(Action a) {
      if (a instanceof Action.Start s) {
        if (keeper.mayStart() && !procs.containsKey(s.app().tag())) {
          procs.put(s.app().tag(), new Proc(s.app().tag(), s.app().epoch(), 0));
          starts.merge(s.app().tag(), 1, Integer::sum);
          trace.add(t() + " " + id + " start " + s.app().tag() + "@" + s.app().epoch());
        }
      } else if (a instanceof Action.Stop s) {
        Proc p = procs.get(s.tag());
        if (p != null && p.stopAt() == 0) {
          procs.put(s.tag(), new Proc(p.tag(), p.epoch(), clock[0] + rnd.nextInt(6) * TICK + 1));
          trace.add(t() + " " + id + " stop " + s.tag() + "@" + p.epoch() + " (" + s.reason() + ")");
        }
      } else if (a instanceof Action.Commit c) {
        var ops = CommitOps.build(c, id, store()::localGet, null);
        if (ops.isEmpty()) return;
        if (dbReachable() && rnd.nextInt(10) == 0) {
          // the reply is lost (a leader change, a timeout): applied or not, this node cannot tell
          boolean applied = rnd.nextBoolean() && db.txn(ops.get()).ok();
          if (!Boolean.getBoolean("sim.mutant.noUncertain")) uncertain.put(c.updated().tag(), c.updated().version());
          trace.add(t() + " " + id + " commit " + c.updated().tag() + " host=" + c.updated().host() + "@" + c.updated().epoch()
              + " " + c.updated().state() + ": outcome unknown (" + (applied ? "applied" : "not applied") + ")");
          return;
        }
        try {
          TxnResult r = store().txn(ops.get());
          uncertain.remove(c.updated().tag(), c.updated().version());
          if (!r.ok() && r.actualVersion() != null) mustApply = Math.max(mustApply, r.actualVersion());
          if (r.ok()) {
            mustApply = Math.max(mustApply, r.version());
            if (c.leaseServer() != null) failovers++;
            trace.add(t() + " " + id + " commit " + c.updated().tag() + " host=" + c.updated().host() + "@" + c.updated().epoch()
                + " " + c.updated().state());
          }
        } catch (StoreUnavailableException e) {
          // outcome unknown in real life; here it did not happen
        }
      }
    }
  }

  SimCluster(long seed, int servers, int apps) {
    rnd = new Random(seed);
    // the log is indexed like Raft's: a refused transaction still takes an index (and changes nothing)
    db.watch(cs -> {
      long index = cs.get(0).version();
      while (log.size() < index - 1) log.add(List.of());
      log.add(cs);
    });
    for (int i = 1; i <= servers; i++) nodes.put("s" + i, new Node("s" + i, i == servers && rnd.nextBoolean()));
    List<String> ids = new ArrayList<>(nodes.keySet());
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
    for (Node n : nodes.values()) {
      if (n.dead && n.restartAt >= 0 && clock[0] >= n.restartAt) {
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
      if (tick % 4 == 0) n.keeper.renew(() -> n.procs.isEmpty());
      if (tick % 4 == 2) n.keeper.checkBatched();
      n.runTimers();
      n.fenceDeadline = n.keeper.runUntil();
      n.detect();
      n.reconcile();
    }
    for (Node n : nodes.values()) {
      // the fence kills a node's processes at the last deadline the node told it
      if (!n.procs.isEmpty() && clock[0] >= n.fenceDeadline && !Boolean.getBoolean("sim.mutant.noGuard")) {
        trace.add(t() + " " + n.id + " guard kills " + n.procs.keySet());
        n.procs.clear();
      }
      n.procs.values().removeIf(p -> p.stopAt() > 0 && clock[0] >= p.stopAt());
      for (var it = n.procs.values().iterator(); it.hasNext(); ) {
        Proc p = it.next();
        if (!broken.contains(p.tag()) || p.stopAt() > 0) continue;
        it.remove(); // it exits at once, a failure here
        n.crashes.computeIfAbsent(p.tag(), x -> new ArrayList<>()).add(clock[0]);
        trace.add(t() + " " + n.id + " " + p.tag() + "@" + p.epoch() + " exits at once (broken)");
      }
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
    switch (rnd.nextInt(6)) {
      case 0 -> {
        if (!mayHarm || n.dead) return;
        n.dead = true;
        n.procs.clear(); // kill -9: the guard's pipe closes, its processes die at once
        n.restartAt = clock[0] + (10 + rnd.nextInt(90)) * TICK;
        trace.add(t() + " FAULT kill -9 " + n.id);
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
        n.crashes.computeIfAbsent(tag, x -> new ArrayList<>()).add(clock[0]);
        trace.add(t() + " FAULT crash " + tag + " on " + n.id);
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

  final List<long[]> heals = new ArrayList<>();
  final List<String> healKeys = new ArrayList<>();

  /** Ends every fault. */
  void heal() {
    lanCut.clear();
    for (Node n : nodes.values()) {
      n.pausedUntil = 0;
      n.dbCutUntil = 0;
      if (n.dead) n.restartAt = clock[0];
    }
  }

  String dump() {
    StringBuilder b = new StringBuilder();
    for (Node n : nodes.values()) {
      b.append(n.id).append(": dead=").append(n.dead).append(" lease=").append(n.keeper.valid()).append(" (").append(n.keeper.lostReason())
          .append(") applied=").append(n.applied).append("/").append(log.size()).append(" current=").append(n.replicaCurrent())
          .append(" verdicts=").append(n.verdict).append(" procs=").append(n.procs.keySet()).append('\n');
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
      if (a.state() == AppState.UNLOADED || broken.contains(a.tag())) continue;
      boolean runs = a.hasHost() && nodes.get(a.host()).procs.containsKey(a.tag());
      if (!runs) out.add(a.tag() + " (" + a.state() + " on " + a.host() + ")");
    }
    return out;
  }
}
