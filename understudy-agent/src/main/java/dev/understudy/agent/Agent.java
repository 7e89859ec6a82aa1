package dev.understudy.agent;

import dev.understudy.core.NodeCore;
import dev.understudy.core.PeerStatus;
import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.decide.LocalView;
import dev.understudy.decide.Settings;
import dev.understudy.detect.DiskPulse;
import dev.understudy.detect.HeartbeatService;
import dev.understudy.detect.LeaseBatcher;
import dev.understudy.detect.LeaseKeeper;
import dev.understudy.detect.LeaseTracker;
import dev.understudy.detect.Ticker;
import dev.understudy.detect.UplinkCheck;
import dev.understudy.model.Event;
import dev.understudy.model.Inventory;
import dev.understudy.model.Keys;
import dev.understudy.route.Forwarder;
import dev.understudy.route.KernelRoutes;
import dev.understudy.run.Supervisor;
import dev.understudy.store.Json;
import dev.understudy.store.RaftStore;
import dev.understudy.store.StoreConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent: wires the database replica, the detectors, the supervisor and the API around its {@link NodeCore}, which
 * its {@link CoreLoop} alone drives. An object, not a singleton: tests run several in one JVM.
 */
public final class Agent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Agent.class);

  private volatile AgentConfig config;
  /** The file this agent's configuration was read from (null: given in code), for a reload. */
  private volatile Path configFile;
  private final Timing timing;
  private final Ticker ticker;
  private final String self;
  private final Settings settings;
  private RaftStore store;
  private HeartbeatService heartbeat;
  private DiskPulse disk;
  private DiskIo diskIo = new DiskIo(null, () -> 0);
  private UplinkCheck uplink;
  private LeaseKeeper leaseKeeper;
  private LeaseTracker leases;
  private LeaseRenewals renewals;
  private Supervisor supervisor;
  private Inventory inventory;
  private Frontend api;
  private Forwarder forwarder;
  private KernelRoutes kernelRoutes;
  private CoreLoop loop;
  private CommitSender commits;
  private ReplicaDoctor replicaDoctor;
  private Metrics metrics;
  private Notifier notifier;
  private EventWriter events;
  private ReplicaReader replicaReader;
  private dev.understudy.tls.ReloadingKeys keys;
  private java.net.http.HttpClient peerHttp;
  private final Standing standing = new Standing();
  private final AtomicLong eventSeq = new AtomicLong();
  private EventFanout eventFanout;
  private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(3, r -> {
    Thread t = new Thread(r, "agent-timer");
    t.setDaemon(true);
    return t;
  });
  private volatile boolean running;
  public Agent(AgentConfig config, Ticker ticker) {
    config.validate();
    this.config = config;
    this.timing = config.timingValues();
    this.ticker = ticker;
    this.self = config.server();
    this.settings = new Settings(timing.failbackHold(), timing.restartLimit(), timing.restartWindow(), timing.restartBackoff());
  }

  /** What serves the agent to operators and apps (the REST API, console and client API), started with it. */
  public interface Frontend extends AutoCloseable {
    @Override
    void close();
  }

  /** Starts an agent and its frontend ({@code ApiServer::start}); the frontend sits above the agent, never inside it. */
  public static Agent start(AgentConfig config, java.util.function.Function<Agent, Frontend> frontend) throws IOException {
    Agent a = new Agent(config, Ticker.SYSTEM);
    a.startAll(frontend);
    return a;
  }

  private void startAll(java.util.function.Function<Agent, Frontend> frontend) throws IOException {
    kernelRoutes = AgentParts.kernelRoutes(config); // first, so that an agent refused here has opened nothing else
    Path data = AgentParts.dataDir(config);
    var sp = config.peers().stream().map(p -> new StoreConfig.Peer(p.id(), p.address(), config.raftPort(p))).toList();
    keys = AgentParts.keys(config);
    var sc = new StoreConfig(self, config.clusterName(), data, sp, timing.electionTimeoutMin(),
        timing.electionTimeoutMax(), Duration.ofSeconds(3), config.snapshotEvery()).withTls(keys);
    // agent-to-agent HTTPS presents this server's certificate and trusts only the cluster CA
    peerHttp = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).sslContext(keys.sslContext()).build();
    PeerProbe peers = new PeerProbe(config, peerHttp);
    store = RaftStore.start(sc, !RaftStore.hasReplica(sc) && peers.joiningRunningCluster());
    replicaReader = new ReplicaReader(store);
    leases = new LeaseTracker(ticker, timing.lease(), timing.leaseMargin());
    metrics = new Metrics(self);
    notifier = new Notifier(self, store, config.notifications());
    eventFanout = new EventFanout(metrics, notifier);
    events = new EventWriter(store);
    NodeCore core = new NodeCore(self, settings, note -> log.info("{} {}", self, note));
    commits = new CommitSender(self, store, metrics, this::stamp, ticker);
    loop = new CoreLoop(this, core, commits);
    store.watch(this::onApplied);
    leases.seed(store.localList(Keys.LEASES), store.localList(Keys.REVOCATIONS), store.localList(Keys.PARTINGS));
    // the fence kills every app leaseMargin before the lease ends: a fence scheduled up to that late on a starved
    // machine still kills before the end, and an observer waits that margin again after it
    Incarnations incarnations = new Incarnations(data.resolve("incarnation"));
    leaseKeeper = new LeaseKeeper(self, store, ticker, timing.lease(), timing.leaseMargin(), timing.guardTimeout(), incarnations);
    heartbeat = AgentParts.heartbeat(config, timing, ticker, incarnations.getAsLong());
    heartbeat.start();
    long period = timing.leaseRenew().toMillis();
    LeaseBatcher batcher = new LeaseBatcher(store, store::txnBatchHere, store::isLeaderReady, LeaseBatcher.Scheduler.of(timers),
        Math.max(1, Math.min(25, period / 10)), period);
    heartbeat.onRenewal(batcher::offer);
    if (config.diskPulse() != null) {
      // slots follow membership order (the config's order, then servers added later), the same on every server
      disk = new DiskPulse(Path.of(config.diskPulse().path()), members().stream().map(AgentConfig.Peer::id).toList(), self, ticker);
      diskIo = new DiskIo(disk, ticker);
    }
    uplink = AgentParts.uplink(config, ticker);
    inventory = AgentParts.inventory(config);
    supervisor = AgentParts.supervisor(this, data, new SupervisorEvents(self, ticker, loop, this::emit));
    supervisor.onFenceKill((tag, epoch) -> {
      stoppedForLease(tag, epoch);
      metrics.fenceKill(tag);
    });
    // what an earlier life left running when it stopped to restart runs on under the lease it parted with
    leaseKeeper.inherit(supervisor.heldRunUntil());
    supervisor.adoptLeftovers();
    leaseKeeper.onMoved(supervisor::leaseMoved);
    // a renewal is due every leaseRenew: under half a lease left means renewals are late (a starved machine)
    supervisor.paceStartsWith(() -> leaseKeeper.remainingMillis() > timing.lease().toMillis() / 2 && replicaCurrent());
    renewals = new LeaseRenewals(self, store, leaseKeeper, batcher, heartbeat, timers, timing.leaseRenew(), diskIo, disk,
        supervisor::idle, this::emit, this::leaseChanged);
    forwarder = new Forwarder(config.address(), config.forwardingLimits());
    replicaDoctor = new ReplicaDoctor(self, store, ticker, metrics, this::mustApplyIndex, this::members, peers::cluster, this::emit);
    AgentParts.gauges(this, metrics, batcher);
    api = frontend.apply(this);
    running = true;
    Housekeeping housekeeping = new Housekeeping(this, loop, replicaDoctor);
    housekeeping.syncMembers(); // every peer starts DOWN and unobserved
    renewals.start();
    new Detection(this, loop, AgentParts.diskTimeoutNanos(config)).start(timers);
    long uplinkEvery = config.uplink() == null ? 1000
        : Durations.parse("uplink.interval", AgentConfig.or(config.uplink().interval(), "1s")).toMillis();
    timers.scheduleWithFixedDelay(housekeeping, 0, uplinkEvery, TimeUnit.MILLISECONDS);
    loop.start();
    log.info("agent {} up: API {} ({} peers)", self, apiUrl(), config.peers().size());
  }

  private volatile Runnable afterRefusal = () -> {};
  private final java.util.concurrent.atomic.AtomicBoolean refused = new java.util.concurrent.atomic.AtomicBoolean();

  /** What runs once this agent has stopped for a format it cannot read (the agent command exits with status 2). */
  public void afterRefusal(Runnable r) { afterRefusal = r; }

  /** The cluster writes a format this build cannot read: stop (apps included; they fail over), say why, exit. */
  void refuseFormat() {
    if (!refused.compareAndSet(false, true)) return;
    new Thread(() -> {
      emit(new Event(null, 0, "FORMAT_REFUSED", self, null, self + " stopped: the cluster writes a format newer than "
          + "understudy " + Build.VERSION + " reads (" + dev.understudy.model.Formats.OLDEST + "-" + dev.understudy.model.Formats.NEWEST
          + "); upgrade it", java.util.Map.of()));
      close();
      afterRefusal.run();
    }, "format-refusal").start();
  }

  /** The store watch: lease observations, events to metrics, notifiers and listeners, and a wake-up when it matters. */
  private void onApplied(List<dev.understudy.store.Change> changes) {
    leases.onChanges(changes);
    for (var c : changes) {
      if (c.key().startsWith(Keys.EVENTS) && c.newValue() != null) eventFanout.accept(Json.read(c.newValue(), Event.class));
    }
    // lease renewals and events change the database several times a second; only state an operator sees counts
    boolean decisive = changes.stream().anyMatch(c -> c.key().startsWith(Keys.APPS) || c.key().startsWith(Keys.SERVERS)
        || c.key().startsWith(Keys.MEMBERS) || c.key().startsWith(Keys.READINESS) || c.key().equals(Keys.MAINTENANCE));
    if (decisive) changeListeners.forEach(Runnable::run);
    // Renewals decide nothing by themselves: an expiry is noticed by the detection round, which posts to the loop.
    // Revocations and markers do matter (a revoked lease stops apps here). A round that held its starts for a replica
    // behind this agent's own writes goes again once they are applied.
    if (changes.stream().anyMatch(c -> !c.key().startsWith(Keys.LEASES) && !c.key().startsWith(Keys.EVENTS))
        || (loop.heldForReplica() && replicaCurrent())) {
      loop.wake();
    }
  }

  private long mustApplyIndex() { return Math.max(loop.status().mustApply(), leaseKeeper.lastWriteIndex()); }

  /** This replica has applied every write this agent made (so its view includes everything that moved its apps). */
  public boolean replicaCurrent() { return !store.diverged() && store.lastAppliedIndex() >= mustApplyIndex(); }

  /** This life has written its lease and its replica has applied that write: its view of the database is current. */
  public boolean caughtUp() { return leaseKeeper.lastWriteIndex() > 0 && replicaCurrent(); }

  /** This replica's Raft state, for /api/v1/cluster. */
  public Map<String, Object> replicaStatus() { return replicaDoctor.status(); }

  boolean replicaStalled() { return replicaDoctor.stalled(); }

  /** The local replica as the decision rules read it. */
  public ClusterSnapshot snapshot() { return replicaReader.snapshot(); }

  /** This node's view as the decision rules see it now (for the API's explanations). */
  public LocalView localView() { return loop.view(); }

  /** The routes the core computed, to the forwarders (user space, and nftables where configured). */
  void updateRoutes(List<Forwarder.Route> routes) {
    forwarder.update(routes);
    if (kernelRoutes != null) kernelRoutes.update(routes);
  }

  private Event stamp(Event e) {
    return new Event(self + "-" + eventSeq.incrementAndGet() + "-" + Long.toHexString(System.nanoTime() & 0xffffff),
        System.currentTimeMillis(), e.kind(), e.server() == null ? self : e.server(), e.app(), e.message(), e.details());
  }

  /** Records an event in the cluster database (best effort, in the background: {@link EventWriter}) and the log. */
  public void emit(Event e) {
    Event ev = stamp(e);
    log.info("event {}: {}", ev.kind(), ev.message());
    events.write(ev);
  }

  /** The lease was lost or regained: status says from when the view is frozen, and which apps the fence stopped. */
  private void leaseChanged() {
    Map<String, Long> running = new HashMap<>();
    supervisor.instances().forEach((tag, i) -> { if (!i.standby()) running.put(tag, i.epoch()); });
    standing.leaseChanged(leaseKeeper.valid(), leaseKeeper.lostReason(), running, System.currentTimeMillis());
    loop.wake();
  }

  /** Stopped here for a lapsed lease, by the fence or the core (whichever came first): status lists it. */
  void stoppedForLease(String tag, long epoch) { standing.fencedNow(tag, epoch, System.currentTimeMillis()); }

  /** Whether this agent's view is current, for status (see {@link Standing}). */
  public Map<String, Object> standing() {
    // stalled or diverged, not "behind its own last write": that lasts milliseconds after every renewal
    return standing.view(!replicaStalled() && !store.diverged());
  }

  // ---- accessors -------------------------------------------------------------------------------------------------

  public String id() { return self; }
  public AgentConfig config() { return config; }
  public Timing timing() { return timing; }
  public Settings settings() { return settings; }
  /** This agent's monotonic clock (the one every decision's {@code now} is read from). */
  public long nowNanos() { return ticker.nanos(); }
  Ticker ticker() { return ticker; }
  public RaftStore store() { return store; }
  public Supervisor supervisor() { return supervisor; }
  public HeartbeatService heartbeat() { return heartbeat; }
  public DiskPulse disk() { return disk; }

  /** Fault injection: lose the answers to this agent's commits (their outcome unknown), or stop losing them. */
  public void loseCommitAnswers(boolean lose) { commits.loseAnswers(lose); }
  DiskIo diskIo() { return diskIo; }
  public long diskErrors() { return diskIo.errors(); }
  public LeaseKeeper leaseKeeper() { return leaseKeeper; }
  LeaseTracker leases() { return leases; }

  /** {@code server}'s agent stopped to restart and holds its parting lease (status and why show it). */
  public boolean restarting(String server) { return leases != null && leases.parting(server); }
  UplinkCheck uplink() { return uplink; }
  public Map<String, PeerStatus> peerStatus() { return loop.status().peers(); }
  public Inventory inventory() { return inventory; }
  public long pausesDetected() { return loop.pausesDetected(); }
  public void onEvent(java.util.function.Consumer<Event> l) { eventFanout.add(l); }
  public void removeEventListener(java.util.function.Consumer<Event> l) { eventFanout.remove(l); }
  /** Called after every applied change (the console refreshes on it). */
  public void onChange(Runnable r) { changeListeners.add(r); }
  public void removeChangeListener(Runnable r) { changeListeners.remove(r); }
  public Metrics metrics() { return metrics; }
  public Forwarder forwarder() { return forwarder; }
  KernelRoutes kernelRoutes() { return kernelRoutes; }
  public Frontend frontend() { return api; }
  public void wake() { loop.wake(); }
  public String apiUrl() { return (config.apiTls() ? "https://" : "http://") + config.address() + ":" + config.apiPort(); }

  /** The TLS material this agent serves its API with and presents to peers (reloaded when its files change). */
  public dev.understudy.tls.ReloadingKeys tlsKeys() { return keys; }

  /** For requests to other agents' APIs: trusts only the cluster CA. */
  public java.net.http.HttpClient peerHttp() { return peerHttp; }

  /** Every server of the cluster, in membership order (see {@link ReplicaReader#members}). */
  public List<AgentConfig.Peer> members() { return replicaReader.members(config); }

  /** Where {@link #reload()} reads the configuration again. */
  public void configFile(Path file) { configFile = file; }

  /**
   * Reads the configuration file again: the sections that are safe to change at run time apply now (see
   * {@link ConfigReload}), the others are named as needing a restart. A file that does not validate changes nothing
   * ({@link ConfigException} names the key). Raises CONFIG_RELOADED when something applied.
   */
  public synchronized ConfigReload.Result reload() {
    if (configFile == null) throw new ConfigException("config", "this agent was not started from a file: nothing to reload");
    AgentConfig next = AgentConfig.load(configFile);
    ConfigReload.Result r = ConfigReload.plan(config, next);
    if (!r.applied().isEmpty()) {
      config = ConfigReload.applyLive(config, next);
      notifier.reconfigure(config.notifications());
      inventory = AgentParts.inventory(config);
      AgentConfig.AppsConfig apps = config.apps();
      supervisor.defaultAccount(apps == null ? null : apps.user(), apps == null ? null : apps.group());
      supervisor.ocfRoot(apps == null || apps.ocfRoot() == null ? null : Path.of(apps.ocfRoot()));
      emit(new Event(null, 0, "CONFIG_RELOADED", self, null, self + " reloaded its configuration: applied "
          + r.applied() + (r.needRestart().isEmpty() ? "" : "; at its next start: " + r.needRestart()),
          java.util.Map.of("applied", String.join(",", r.applied()), "needRestart", String.join(",", r.needRestart()))));
    }
    log.info("{} reloaded {}: applied {}, needing a restart {}", self, configFile, r.applied(), r.needRestart());
    return r;
  }

  /** Stops this agent and its apps. */
  @Override
  public void close() { shutdown(false); }

  /**
   * Stops this agent to restart it (SIGTERM: an upgrade, a configuration change): its apps keep running, guarded by the
   * fence, under a last lease renewal as long as {@code timing.restartGrace}, for the next start to adopt. When that
   * renewal is not confirmed, the apps are stopped as by {@link #close()}.
   */
  public void closeForRestart() { shutdown(true); }

  private void shutdown(boolean restart) {
    if (!running) return;
    running = false;
    if (loop != null) loop.stop();
    if (renewals != null) renewals.stop(); // this agent's own renewals only
    // the parting renewal first, while the lease is valid: a hand-over of leadership can take seconds (found by chaos:
    // the lease ran out during a failed hand-over, and the apps failed over)
    boolean held = restart && holdAppsForRestart();
    log.info(held ? "agent {} stopping to restart: its apps run on for its next start to adopt" : "agent {} stopping: stopping its apps", self);
    if (supervisor != null && !held) supervisor.stopAll("agent shutting down");
    // The timers (the lease batcher among them) run until leadership is handed over: the other servers' renewals are
    // written here while this replica leads. Stopped first, they went unwritten until the hand-over was done, and a
    // server that had just acquired its lease fenced itself (RollingUpgradeTest: its app was killed and restarted).
    handOverLeadership();
    timers.shutdownNow();
    diskIo.close();
    if (supervisor != null) supervisor.close();
    if (api != null) api.close();
    if (kernelRoutes != null) kernelRoutes.close();
    if (forwarder != null) forwarder.close();
    if (notifier != null) notifier.close();
    if (events != null) events.close();
    if (heartbeat != null) heartbeat.close();
    if (store != null) store.close();
  }

  /**
   * A leader that stops hands leadership to another server first: the cluster's writes (every lease renewal) then pause
   * for a round trip, not for an election timeout and an election, which on a loaded machine can outlast a lease. Only
   * to a follower that is current, and for at most an election timeout: no write lands while a transfer is pending.
   */
  private void handOverLeadership() {
    if (store == null || !store.isLeader()) return;
    List<String> voters = members().stream().limit(StoreConfig.MAX_VOTERS).map(AgentConfig.Peer::id).toList();
    var to = store.replicaInfo().handOverTarget(voters);
    if (to.isEmpty()) {
      log.info("{} stops leading without a hand-over: no follower has everything committed; the others elect", self);
      return;
    }
    try {
      store.transferLeadership(to.get(), timing.electionTimeoutMax().toMillis());
      log.info("{} handed Raft leadership to {} before stopping", self, to.get());
    } catch (IOException | RuntimeException e) {
      log.info("{} could not hand leadership to {}: {}", self, to.get(), e.toString());
    }
  }

  /**
   * The parting lease is written even with nothing to hold: a peer that decided to hand an app here just before it
   * learnt of the stop commits that hand-over anyway, and the app then waits for this agent's next life (which starts
   * it) instead of failing over when the lease runs out (chaos seed 91986422732511: an idle agent restarted 200 ms
   * before a failback to it was committed, and the app failed over from it 3.6 s later).
   */
  private boolean holdAppsForRestart() {
    if (supervisor == null || leaseKeeper == null) return false;
    long until = leaseKeeper.part(timing.restartGrace());
    if (until == Long.MIN_VALUE || until <= ticker.nanos()) {
      log.warn("{} could not extend its lease for a restart; stopping its apps", self);
      return false;
    }
    if (supervisor.idle()) return true;
    try {
      supervisor.holdForRestart(until);
      return true;
    } catch (IOException e) {
      log.warn("{} cannot leave its apps to its fence ({}); stopping them", self, e.toString());
      return false;
    }
  }
}
