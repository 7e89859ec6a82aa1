package dev.understudy.agent;

import dev.understudy.core.Input;
import dev.understudy.core.NodeCore;
import dev.understudy.core.NodeStatus;
import dev.understudy.core.Ready;
import dev.understudy.core.RouteTarget;
import dev.understudy.decide.Action;
import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.decide.Instance;
import dev.understudy.decide.LocalView;
import dev.understudy.model.App;
import dev.understudy.model.Keys;
import dev.understudy.route.Forwarder;
import dev.understudy.run.Resources;
import dev.understudy.store.Json;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's one loop: the only caller of its {@link NodeCore}. Other threads post inputs here; the loop feeds them to
 * the core, takes a decision round from the local replica, carries out what the core returns (starts, stops,
 * commits, events, routes) and feeds each commit's result back before advancing. It publishes the core's status for
 * readers on other threads.
 */
final class CoreLoop {
  private static final Logger log = LoggerFactory.getLogger(CoreLoop.class);

  private final Agent agent;
  private final NodeCore core;
  private final CommitSender commits;
  private final LinkedBlockingQueue<Input> inbox = new LinkedBlockingQueue<>();
  private volatile NodeStatus status = NodeStatus.EMPTY;
  private volatile boolean heldForReplica;
  private volatile long pausesDetected;
  private long lastRoundNanos;
  private long lastStaleLog;
  private Thread thread;
  private volatile boolean running;

  CoreLoop(Agent agent, NodeCore core, CommitSender commits) {
    this.agent = agent;
    this.core = core;
    this.commits = commits;
  }

  /** From any thread: something the core reacts to. */
  void post(Input in) { inbox.add(in); }

  /** From any thread: the database or this server's processes changed; decide again. */
  void wake() { inbox.add(Input.Changed.INSTANCE); }

  NodeStatus status() { return status; }

  boolean heldForReplica() { return heldForReplica; }

  long pausesDetected() { return pausesDetected; }

  void start() {
    running = true;
    lastRoundNanos = agent.nowNanos();
    thread = new Thread(this::run, "reconcile");
    thread.setDaemon(true);
    thread.start();
  }

  void stop() {
    running = false;
    if (thread != null) thread.interrupt();
  }

  /**
   * The longest the loop sleeps with nothing to wake it: what a decision reads wakes it when it changes, and the core
   * names the instants time alone matters. What is left is polled on these rounds: the resources an app requires (a
   * directory, a free port). Capped well under the pause check's one second, so a round after a whole idle sleep never
   * looks like a pause.
   */
  private long idleRoundNanos() {
    return Math.max(TimeUnit.MILLISECONDS.toNanos(100),
        Math.min(agent.timing().heartbeatTimeout().toNanos(), TimeUnit.MILLISECONDS.toNanos(500)));
  }

  private long wakeAt = Long.MAX_VALUE;

  private void run() {
    while (running) {
      try {
        long at = wakeAt; // nanoTime has an arbitrary origin: MAX_VALUE minus a negative reading would overflow
        long untilTimed = at == Long.MAX_VALUE ? Long.MAX_VALUE : at - agent.nowNanos();
        Input first = inbox.poll(Math.max(1_000_000, Math.min(idleRoundNanos(), untilTimed)), TimeUnit.NANOSECONDS);
        List<Input> inputs = new ArrayList<>();
        if (first != null) inputs.add(first);
        inbox.drainTo(inputs);
        long now = agent.nowNanos();
        long gap = now - lastRoundNanos;
        lastRoundNanos = now;
        for (Input in : inputs) core.step(in);
        // Doubt yourself first: after a long local pause (GC, SIGSTOP) every peer looks dead; skip a round.
        if (gap > Math.max(agent.timing().heartbeatTimeout().toNanos(), 1_000_000_000L)) {
          pausesDetected++;
          log.warn("{} was paused for {} ms; skipping a decision round and forgiving peers", agent.id(), gap / 1_000_000);
          agent.heartbeat().forgiveAll();
          publish();
          continue;
        }
        round(now);
        // counted from the end of a round: a long round (a mass failover) is work, not a pause to forgive peers for
        lastRoundNanos = agent.nowNanos();
        // Rest as long as the round took (up to 100 ms): with 1,000 apps, every commit of a mass failover woke a round of
        // tens of milliseconds, back to back, and the loop took a whole core from the spawns and the lease renewals.
        long tookMs = (lastRoundNanos - now) / 1_000_000;
        if (tookMs > 0) Thread.sleep(Math.min(tookMs, 100));
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        log.warn("reconcile round failed: {}", e.toString(), e);
      }
    }
  }

  /**
   * One decision round. The replica check comes BEFORE the snapshot: the snapshot is then at least as fresh as what was
   * checked. Checked after, a replica catching up between the two let a restarted agent start from a stale snapshot.
   */
  private void round(long now) {
    // a diverged replica (it applied entries the log later truncated) counts as behind everything: it starts nothing
    Input.Round in = roundInput(now, agent.store().diverged() ? -1 : agent.store().lastAppliedIndex());
    core.step(in);
    heldForReplica = in.appliedIndex() < Math.max(status.mustApply(), in.leaseWriteIndex());
    if (heldForReplica && now - lastStaleLog > 1_000_000_000L) {
      lastStaleLog = now;
      log.info("{} holds starts until its replica catches up (applied {} < {})", agent.id(), in.appliedIndex(),
          Math.max(core.status().mustApply(), in.leaseWriteIndex()));
    }
    agent.metrics().appStates(in.snapshot().apps());
    Ready r = core.ready();
    while (true) {
      carryOut(r);
      if (!r.commits().isEmpty()) {
        for (Input result : commits.send(r.commits(), this::post)) core.step(result);
        status = core.status(); // the start guard's replicaCurrent() reads the index these results raised
      }
      core.advance(r);
      wakeAt = r.wakeAtNanos();
      r = core.ready();
      // what the commits' results produced (a failover's timing and its event) is carried out now
      if (r.isEmpty()) break;
    }
    wakeAt = r.wakeAtNanos();
    publish();
  }

  private void publish() {
    status = core.status();
    Map<String, dev.understudy.decide.Verdict> verdicts = new java.util.HashMap<>();
    status.peers().forEach((id, p) -> verdicts.put(id, p.verdict()));
    agent.metrics().verdicts(verdicts);
  }

  /** A round's input read now: the local replica, and what this server knows that the database does not hold. */
  Input.Round roundInput(long now, long appliedIndex) {
    ClusterSnapshot snap = agent.snapshot();
    Map<String, Instance> running = agent.supervisor().instances();
    Map<String, List<String>> unmet = new HashMap<>();
    for (App a : snap.apps().values()) {
      if (!a.servers().contains(agent.id())) continue;
      List<String> miss = new java.util.ArrayList<>(Resources.unmet(a.resources(), agent.inventory(), agent.config().address(), running.containsKey(a.tag())));
      miss.addAll(agent.supervisor().agents().unmet(a)); // its resource agent is missing here, or refused it
      if (!miss.isEmpty()) unmet.put(a.tag(), miss);
    }
    Map<String, Input.LeaseSeen> leases = new HashMap<>();
    Map<String, String> addresses = new HashMap<>();
    for (var p : agent.members()) {
      addresses.put(p.id(), p.address());
      if (!p.id().equals(agent.id())) {
        var t = agent.leases();
        leases.put(p.id(), new Input.LeaseSeen(t.expired(p.id()), t.version(p.id()), t.revoked(p.id()), t.parting(p.id())));
      }
    }
    var keeper = agent.leaseKeeper();
    return new Input.Round(now, snap, appliedIndex, keeper.lastWriteIndex(), keeper.valid(), running, unmet,
        agent.uplink().ok(), leases, addresses, agent.store().isLeader());
  }

  /** This node's view as of now, for the API's explanations (from any thread: it reads the published status). */
  LocalView view() {
    Input.Round in = roundInput(agent.nowNanos(), agent.store().lastAppliedIndex());
    return NodeCore.view(agent.id(), status, in);
  }

  private void carryOut(Ready r) {
    for (Action a : r.actions()) execute(a);
    for (var e : r.events()) agent.emit(e);
    for (var m : r.measures()) {
      agent.metrics().took(m.kind(), m.seconds());
    }
    if (r.routes() != null) {
      List<Forwarder.Route> routes = new ArrayList<>();
      for (RouteTarget t : r.routes()) {
        routes.add(new Forwarder.Route(t.tag(), t.clusterPort(),
            t.up() ? Optional.of(new InetSocketAddress(t.address(), t.appPort())) : Optional.empty()));
      }
      agent.updateRoutes(routes);
    }
  }

  private void execute(Action a) {
    var supervisor = agent.supervisor();
    if (a instanceof Action.Start s) {
      // Re-checked just before the process is spawned: the same lease incarnation, a current replica, and (for a
      // host's start) the database still naming this server at that epoch. A start decided before a pause must not run
      // after it under a new lease (found by chaos seed 4724750990491: a 50 ms overlap).
      var keeper = agent.leaseKeeper();
      long inc = keeper.incarnation();
      App app = s.app();
      supervisor.start(app, s.standby(), () -> keeper.mayStart() && keeper.incarnation() == inc && agent.replicaCurrent()
          && (s.standby() || agent.store().localGet(Keys.app(app.tag())).map(e -> Json.read(e.value(), App.class))
              .map(cur -> agent.id().equals(cur.host()) && cur.epoch() == app.epoch()).orElse(false)));
    } else if (a instanceof Action.Promote p) {
      supervisor.promote(p.app());
    } else if (a instanceof Action.Stop s) {
      // the core stops every app here once the lease is gone, often before the lease's own watch reports the loss
      var inst = supervisor.instances().get(s.tag());
      if (inst != null && !inst.standby() && !agent.leaseKeeper().valid()) agent.stoppedForLease(s.tag(), inst.epoch());
      supervisor.stop(s.tag(), s.reason());
    }
  }
}
