package dev.understudy.agent;

import dev.understudy.decide.Action;
import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.decide.Decider;
import dev.understudy.decide.LocalView;
import dev.understudy.decide.PeerView;
import dev.understudy.decide.Settings;
import dev.understudy.decide.Verdict;
import dev.understudy.detect.DeadlineRound;
import dev.understudy.detect.DiskPulse;
import dev.understudy.decide.DiskState;
import dev.understudy.detect.HeartbeatService;
import dev.understudy.detect.LeaseKeeper;
import dev.understudy.detect.LeaseTracker;
import dev.understudy.detect.Ticker;
import dev.understudy.detect.UplinkCheck;
import dev.understudy.decide.VerdictRules;
import dev.understudy.model.App;
import dev.understudy.model.Event;
import dev.understudy.model.Inventory;
import dev.understudy.model.Keys;
import dev.understudy.model.Lease;
import dev.understudy.model.ServerRecord;
import dev.understudy.model.Sizes;
import dev.understudy.run.Resources;
import dev.understudy.run.Supervisor;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.RaftStore;
import dev.understudy.store.StoreConfig;
import dev.understudy.store.StoreUnavailableException;
import dev.understudy.store.TxnResult;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent: wires the database replica, the detectors, the supervisor and the API, and runs the level-triggered
 * reconcile loop that asks {@link Decider} what to do. An object, not a singleton: tests run several in one JVM.
 */
public final class Agent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Agent.class);
  private static final int MAX_EVENTS = 2000;

  /** A verdict on a peer and the evidence it rests on. */
  public record PeerStatus(String server, Verdict verdict, long sinceNanos, long sinceWallMillis, boolean lanOk,
                           DiskState disk, boolean leaseExpired, boolean uplinkOk) {}

  private final AgentConfig config;
  private final Timing timing;
  private final long diskTimeoutNanos;
  private final Ticker ticker;
  private final String self;
  private final Settings settings;
  private RaftStore store;
  private HeartbeatService heartbeat;
  private DiskPulse disk;
  private UplinkCheck uplink;
  private LeaseKeeper leaseKeeper;
  private dev.understudy.detect.LeaseBatcher leaseBatcher;
  private LeaseTracker leases;
  private Supervisor supervisor;
  private Inventory inventory;
  private dev.understudy.api.ApiServer api;
  private dev.understudy.route.Forwarder forwarder;
  private volatile List<dev.understudy.route.Forwarder.Route> lastRoutes = List.of();
  private dev.understudy.route.KernelRoutes kernelRoutes;
  private final Map<String, PeerStatus> peers = new ConcurrentHashMap<>();
  /**
   * Apps as last parsed, by key, reused while their database version is unchanged: every round reads every app, and
   * parsing 1,000 apps' JSON each round was most of a mass failover's CPU.
   */
  private final Map<String, App> parsedApps = new ConcurrentHashMap<>();
  private final Map<String, List<Long>> crashes = new ConcurrentHashMap<>();
  private final Map<String, List<String>> unmet = new ConcurrentHashMap<>();
  private volatile Map<String, List<String>> publishedReadiness = null;
  private volatile ServerRecord publishedRecord;
  private final Semaphore wake = new Semaphore(0);
  private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(3, r -> {
    Thread t = new Thread(r, "agent-timer");
    t.setDaemon(true);
    return t;
  });
  private final AtomicLong eventSeq = new AtomicLong();
  private final AtomicLong mustApply = new AtomicLong();
  private volatile long lastStaleLog;
  private volatile boolean heldForReplica;
  private final java.util.Set<String> unprotected = ConcurrentHashMap.newKeySet();
  private Metrics metrics;
  private Notifier notifier;
  private EventWriter events;
  private volatile String lastLeader;
  /** tag -> {epoch, ticker time the old host went DOWN}: failovers this agent made, to time them once RUNNING. */
  private final Map<String, long[]> takeovers = new ConcurrentHashMap<>();
  private final List<java.util.function.Consumer<Event>> eventListeners = new CopyOnWriteArrayList<>();
  private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();
  private Thread loop;
  private volatile boolean running;
  private volatile long lastRoundNanos;
  private volatile long pausesDetected;
  private ReplicaDoctor replicaDoctor;
  /** Asks peers for their /api/v1/cluster (joining at start, finding the leader of a stalled replica). */
  private final java.net.http.HttpClient peerHttp =
      java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();

  public Agent(AgentConfig config, Ticker ticker) {
    config.validate();
    this.config = config;
    this.timing = config.timingValues();
    this.ticker = ticker;
    this.self = config.server();
    this.settings = new Settings(timing.failbackHold(), timing.restartLimit(), timing.restartWindow(), timing.restartBackoff());
    this.diskTimeoutNanos = config.diskPulse() == null ? 0
        : Durations.parse("diskPulse.timeout", AgentConfig.or(config.diskPulse().timeout(), "500ms")).toNanos();
  }

  public static Agent start(AgentConfig config) throws IOException {
    Agent a = new Agent(config, Ticker.SYSTEM);
    a.startAll();
    return a;
  }

  private void startAll() throws IOException {
    if (config.kernelForwarding()) {
      // first, so that an agent refused here has opened nothing else
      try {
        kernelRoutes = dev.understudy.route.KernelRoutes.open(config.address(), config.forwardingLimits());
      } catch (IOException e) {
        throw new ConfigException("forwarding.mode", "kernel: " + e.getMessage()
            + " (use forwarding.mode: user where nftables cannot be used)");
      }
    }
    Path data = Path.of(config.dataDir()).toAbsolutePath();
    List<StoreConfig.Peer> sp = config.peers().stream()
        .map(p -> new StoreConfig.Peer(p.id(), p.address(), config.raftPort(p))).toList();
    StoreConfig sc = new StoreConfig(self, config.clusterName(), data, sp, timing.electionTimeoutMin(),
        timing.electionTimeoutMax(), Duration.ofSeconds(3));
    store = RaftStore.start(sc, !RaftStore.hasReplica(sc) && joiningRunningCluster());
    leases = new LeaseTracker(ticker, timing.lease(), timing.leaseMargin());
    metrics = new Metrics(self);
    notifier = new Notifier(self, store, config.notifications());
    events = new EventWriter(store);
    store.watch(changes -> {
      leases.onChanges(changes);
      for (var c : changes) {
        if (c.key().startsWith(Keys.EVENTS) && c.newValue() != null) {
          Event e = Json.read(c.newValue(), Event.class);
          metrics.event(e);
          notifier.onEvent(e);
          eventListeners.forEach(l -> {
            try {
              l.accept(e);
            } catch (RuntimeException ex) {
              log.debug("event listener failed: {}", ex.toString());
            }
          });
        }
      }
      // lease renewals and events change the database several times a second; only state an operator sees counts
      boolean decisive = changes.stream().anyMatch(c -> c.key().startsWith(Keys.APPS) || c.key().startsWith(Keys.SERVERS)
          || c.key().startsWith(Keys.MEMBERS) || c.key().startsWith(Keys.READINESS));
      if (decisive) changeListeners.forEach(Runnable::run);
      // Renewals (a dozen a second across the cluster) decide nothing by themselves: an expiry is noticed by the detection
      // round, which wakes the loop. Revocations and markers do matter (a revoked lease stops apps here).
      // A round that held its starts for a replica behind this agent's own writes goes again once they are applied.
      if (changes.stream().anyMatch(c -> !c.key().startsWith(Keys.LEASES) && !c.key().startsWith(Keys.EVENTS))
          || (heldForReplica && replicaCurrent())) {
        wake.release();
      }
    });
    leases.seed(store.localList(Keys.LEASES), store.localList(Keys.REVOCATIONS));
    // the fence kills every app leaseMargin before the lease ends: a fence scheduled up to that late on a starved
    // machine still kills before the end, and an observer waits that margin again after it (found by chaos: a 1.8 ms
    // overlap under load average 10 with one margin)
    Incarnations incarnations = new Incarnations(data.resolve("incarnation"));
    leaseKeeper = new LeaseKeeper(self, store, ticker, timing.lease(), timing.leaseMargin(), timing.guardTimeout(), incarnations);

    Map<String, InetSocketAddress> hbPeers = new HashMap<>();
    for (var p : config.peers()) hbPeers.put(p.id(), new InetSocketAddress(p.address(), config.heartbeatPort(p)));
    heartbeat = new HeartbeatService(self, new InetSocketAddress(config.address(), config.heartbeatPort()), hbPeers,
        config.cluster().secret().getBytes(StandardCharsets.UTF_8), timing.heartbeatInterval(), ticker, incarnations.getAsLong());
    heartbeat.start();
    long period = timing.leaseRenew().toMillis();
    leaseBatcher = new dev.understudy.detect.LeaseBatcher(store, store::txnBatchHere, store::isLeaderReady,
        dev.understudy.detect.LeaseBatcher.Scheduler.of(timers),
        Math.max(1, Math.min(25, period / 10)), period);
    heartbeat.onRenewal(leaseBatcher::offer);
    leaseKeeper.batchThrough(this::sendRenewal);
    if (config.diskPulse() != null) {
      // slots follow membership order (the config's order, then servers added later), the same on every server
      List<String> ordered = members().stream().map(AgentConfig.Peer::id).toList();
      disk = new DiskPulse(Path.of(config.diskPulse().path()), ordered, self, ticker);
    }
    List<InetSocketAddress> targets = new ArrayList<>();
    if (config.uplink() != null && config.uplink().targets() != null) {
      for (String t : config.uplink().targets()) {
        int c = t.lastIndexOf(':');
        targets.add(new InetSocketAddress(t.substring(0, c), Integer.parseInt(t.substring(c + 1))));
      }
    }
    uplink = new UplinkCheck(targets, config.uplink() == null ? Duration.ofSeconds(3)
        : Durations.parse("uplink.timeout", AgentConfig.or(config.uplink().timeout(), "3s")), ticker);
    var inv = config.inventory();
    inventory = Resources.detect(inv == null ? List.of() : inv.labels(), inv == null ? null : inv.cpus(),
        inv == null || inv.memory() == null ? null : Sizes.parseBytes(inv.memory()));

    // the fence's deadline is on System.nanoTime(), which is this agent's ticker (see the constructor's one caller)
    supervisor = new Supervisor(self, config.address(), apiUrl(), data, ticker, leaseKeeper::mayStart,
        leaseKeeper::runUntil, new Supervisor.Listener() {
          @Override
          public void exited(String tag, long epoch, boolean crashed, int code) {
            if (crashed) {
              crashes.computeIfAbsent(tag, t -> new CopyOnWriteArrayList<>()).add(ticker.nanos());
              emit(new Event(null, 0, "APP_CRASHED", self, tag, tag + " exited with code " + code + " on " + self, Map.of()));
            }
          }

          @Override
          public void startFailed(String tag, long epoch, String why) {
            emit(new Event(null, 0, "START_FAILED", self, tag, tag + " could not start on " + self + ": " + why, Map.of()));
          }

          @Override
          public void unhealthy(String tag, long epoch, String why) {
            emit(new Event(null, 0, "APP_UNHEALTHY", self, tag, tag + " on " + self + " " + why, Map.of()));
          }

          @Override
          public void changed() { wake.release(); }
        });
    leaseKeeper.onMoved(supervisor::leaseMoved);
    // a renewal is due every leaseRenew: under half a lease left means renewals are late (a starved machine)
    supervisor.paceStartsWith(() -> leaseKeeper.remainingMillis() > timing.lease().toMillis() / 2 && replicaCurrent());

    forwarder = new dev.understudy.route.Forwarder(config.address(), config.forwardingLimits());
    if (kernelRoutes != null) metrics.gauge("understudy_kernel_route_errors_total", kernelRoutes::errors);
    metrics.gauge("understudy_forwarded_connections_open", forwarder::openConnections);
    metrics.gauge("understudy_forwarded_connections_total", forwarder::forwardedConnections);
    metrics.gauge("understudy_lease_remaining_seconds", () -> leaseKeeper.remainingMillis() / 1000.0);
    metrics.gauge("understudy_lease_renewals_batched_total", leaseKeeper::batchedRenewals);
    metrics.gauge("understudy_lease_renewals_direct_total", leaseKeeper::directRenewals);
    metrics.gauge("understudy_lease_batch_entries_total", leaseBatcher::entries);
    replicaDoctor = new ReplicaDoctor(self, store, ticker, metrics, this::mustApplyIndex, this::members, this::peerCluster,
        this::emit);
    metrics.gauge("understudy_db_replica_stalled", () -> replicaDoctor.stalled() ? 1 : 0);
    metrics.gauge("understudy_apps_running_here", () -> supervisor.instances().size());
    metrics.gauge("understudy_heartbeat_rejected_packets", heartbeat::rejectedPackets);
    metrics.gauge("understudy_disk_pulse_errors_total", this::diskErrors);
    api = dev.understudy.api.ApiServer.start(this);
    running = true;
    long now = ticker.nanos();
    for (var p : config.peers()) {
      if (!p.id().equals(self)) {
        // sinceWallMillis 0 marks "not yet observed": the first verdict after start is not an event
        peers.put(p.id(), new PeerStatus(p.id(), Verdict.DOWN, now, 0, false,
            disk == null ? DiskState.NOT_CONFIGURED : DiskState.STALE, true, true));
      }
    }
    scheduleRenewal(0);
    deadlineRound = new DeadlineRound(ticker, (task, nanos) -> timers.schedule(task, nanos, TimeUnit.NANOSECONDS),
        TimeUnit.MILLISECONDS.toNanos(detectEveryMillis()), this::detectRound);
    timers.scheduleWithFixedDelay(this::detectRound, detectEveryMillis(), detectEveryMillis(), TimeUnit.MILLISECONDS);
    long uplinkEvery = config.uplink() == null ? 1000
        : Durations.parse("uplink.interval", AgentConfig.or(config.uplink().interval(), "1s")).toMillis();
    timers.scheduleWithFixedDelay(this::housekeeping, 0, uplinkEvery, TimeUnit.MILLISECONDS);
    lastRoundNanos = ticker.nanos();
    loop = new Thread(this::reconcileLoop, "reconcile");
    loop.setDaemon(true);
    loop.start();
    log.info("agent {} up: API {} ({} peers)", self, apiUrl(), config.peers().size());
  }

  /**
   * A fresh server is joining a running cluster (an operator is adding it) when a peer answers with a member list
   * that does not name it. In a cluster being formed, every peer's list names every server, or no peer answers yet.
   */
  private boolean joiningRunningCluster() {
    for (var p : config.peers()) {
      if (p.id().equals(self)) continue;
      var cluster = peerCluster(p);
      if (cluster == null) continue;
      var members = cluster.path("members");
      boolean listed = false;
      for (var m : members) listed |= m.asText().equals(self);
      if (!listed) log.info("{} is joining a running cluster (members {}): waiting for the leader to add it", self, members);
      return !listed;
    }
    return false;
  }

  /** A peer's /api/v1/cluster answer, or null when it does not answer (yet). */
  private com.fasterxml.jackson.databind.JsonNode peerCluster(AgentConfig.Peer p) {
    var req = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + p.address() + ":" + config.apiPort(p) + "/api/v1/cluster"))
        .timeout(Duration.ofSeconds(1));
    if (config.cluster().token() != null) req.header("Authorization", "Bearer " + config.cluster().token());
    try {
      var r = peerHttp.send(req.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? Json.MAPPER.readTree(r.body()) : null;
    } catch (IOException e) {
      log.debug("{} not answering: {}", p.id(), e.toString());
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  // ---- lease and detection -------------------------------------------------------------------------------------

  /**
   * Renewal rounds fall on multiples of leaseRenew on the wall clock, the same instants on every server (NTP keeps a
   * LAN's clocks within a millisecond or so), so the Raft leader's agent finds every server's request of a round in
   * its gather window and writes them in one entry: one replication round and one fsync per round instead of one per
   * server. Half a round later, a request not yet confirmed is written directly. Only the rhythm uses the wall clock;
   * the lease itself is counted on the monotonic clock as before. A wall-clock step shortens one gap, never lengthens it.
   */
  private void scheduleRenewal(long delayMillis) {
    if (!running && delayMillis > 0) return;
    try {
      timers.schedule(() -> {
        renewLease();
        long period = timing.leaseRenew().toMillis();
        timers.schedule(this::checkBatchedRenewal, period / 2, TimeUnit.MILLISECONDS);
        scheduleRenewal(period - Math.floorMod(System.currentTimeMillis(), period));
      }, delayMillis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // the agent is closing
    }
  }

  /** A renewal request to the Raft leader's agent (this one's own batcher when it leads); false: none is known. */
  private boolean sendRenewal(long leaseIncarnation, long seq, long revocationVersion) {
    String leader = store.leaderId().orElse(null);
    if (leader == null) return false;
    var r = new dev.understudy.detect.HeartbeatPacket.Renewal(leaseIncarnation, seq, revocationVersion);
    if (!leader.equals(self)) return heartbeat.sendRenewal(leader, r);
    leaseBatcher.offer(self, r);
    return true;
  }

  private void checkBatchedRenewal() {
    try {
      leaseKeeper.checkBatched();
    } catch (RuntimeException e) {
      log.warn("lease round failed: {}", e.toString());
    }
  }

  private void renewLease() {
    try {
      boolean was = leaseKeeper.valid();
      leaseKeeper.renew(supervisor::idle);
      boolean now = leaseKeeper.valid();
      DiskPulse.State state = now ? DiskPulse.State.RUNNING : DiskPulse.State.FENCED;
      onDisk(() -> disk.beat(state));
      if (was != now) {
        log.info("{} lease {}", self, now ? "held" : "LOST: " + leaseKeeper.lostReason());
        if (!now) emit(new Event(null, 0, "SERVER_FENCED", self, null, self + " cannot renew its lease ("
            + leaseKeeper.lostReason() + "): its apps are being stopped", Map.of()));
        wake.release();
      }
    } catch (RuntimeException e) {
      log.warn("lease round failed: {}", e.toString());
    }
  }

  /** A step of disk-pulse I/O. */
  private interface DiskStep {
    void run() throws IOException;
  }

  /** Disk-pulse I/O runs here, never on the renewal or detection threads (see onDisk). */
  private final java.util.concurrent.ExecutorService diskIo = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "disk-pulse");
    t.setDaemon(true);
    return t;
  });
  private final java.util.concurrent.atomic.AtomicBoolean diskBusy = new java.util.concurrent.atomic.AtomicBoolean();
  private final AtomicLong diskErrors = new AtomicLong();
  private volatile long lastDiskErrorLog;

  /**
   * The disk pulse only ever prevents a false failover; it must never stop a real one or fence the cluster. Its I/O
   * runs on its own thread: a hung write (storage gone, a hard NFS mount) once blocked the lease renewal that shared
   * the timer thread, and every server on that storage fenced itself; an I/O error aborted the whole detection round,
   * and no verdict changed anywhere. A step is skipped while the last one still hangs (nothing queues up behind it);
   * verdicts use the slots last read, which go STALE by themselves when reads stop, so LAN loss and the lease decide.
   */
  private void onDisk(DiskStep step) {
    if (disk == null || !diskBusy.compareAndSet(false, true)) return;
    try {
      diskIo.execute(() -> {
        try {
          step.run();
        } catch (IOException | RuntimeException e) {
          diskErrors.incrementAndGet();
          long t = ticker.nanos();
          if (t - lastDiskErrorLog > 10_000_000_000L) {
            lastDiskErrorLog = t;
            log.warn("disk pulse I/O failed ({} so far): {}; LAN heartbeats and leases decide meanwhile", diskErrors.get(), e.toString());
          }
        } finally {
          diskBusy.set(false);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      diskBusy.set(false);
    }
  }

  public long diskErrors() { return diskErrors.get(); }

  /** A deadline's round and the periodic one can fire together on two timer threads: one at a time, or events double. */
  private final Object detectLock = new Object();

  private void detectRound() {
    synchronized (detectLock) {
      detectRoundLocked();
    }
  }

  private void detectRoundLocked() {
    try {
      long now = ticker.nanos();
      onDisk(() -> {
        if (leaseKeeper.valid()) disk.beat(DiskPulse.State.RUNNING);
        disk.readAll();
      });
      boolean changed = false;
      boolean current = replicaCurrent();
      long nextExpiry = Long.MAX_VALUE;
      for (var p : members()) {
        String id = p.id();
        if (id.equals(self)) continue;
        Long ack = heartbeat.lastAckNanos(id);
        boolean lanOk = ack != null && now - ack <= timing.heartbeatTimeout().toNanos();
        nextExpiry = Math.min(nextExpiry, DeadlineRound.nanosUntilChange(now, ack, timing.heartbeatTimeout().toNanos(),
            lanOk ? Long.MAX_VALUE : leases.nanosUntilExpired(id)));
        DiskState ds = disk == null ? DiskState.NOT_CONFIGURED : disk.state(id, diskTimeoutNanos);
        // a replica still catching up has not seen the peer's recent renewals: its "expired" means nothing yet
        boolean expired = leases.expired(id) && current;
        boolean upl = uplinkOk(id);
        Verdict v = VerdictRules.verdict(lanOk, ds, expired, upl);
        metrics.verdict(id, v);
        PeerStatus prev = peers.get(id);
        if (v == Verdict.DOWN && prev != null && prev.verdict() != Verdict.DOWN && ack != null) {
          metrics.detectionTook((now - ack) / 1e9);
        }
        // an expiry under an unchanged verdict (already DOWN on LAN loss) is what lets a takeover go ahead: decide now
        if (prev != null && prev.leaseExpired() != expired) changed = true;
        // A verdict is "observed" (its changes are events) once this replica is current and the peer has held a lease:
        // at cluster formation every peer went UP (expiry not yet knowable), DOWN (no lease yet), UP (acquired), and
        // each agent announced a SERVER_DOWN of every peer that had never been down.
        boolean observed = current && leases.version(id) > 0;
        if (prev == null || prev.verdict() != v) {
          peers.put(id, new PeerStatus(id, v, now, observed ? System.currentTimeMillis() : 0, lanOk, ds, expired, upl));
          if (prev != null) {
            log.info("{} sees {} {} -> {} (LAN {}, disk {}, lease {})", self, id, prev.verdict(), v,
                lanOk ? "ok" : "lost", ds, expired ? "expired" : "current");
            if (prev.sinceWallMillis() > 0) {
              emit(new Event(null, 0, v == Verdict.DOWN ? "SERVER_DOWN" : "SERVER_" + v, self, null,
                  self + " sees " + id + " " + v + " (LAN " + (lanOk ? "ok" : "lost") + ", disk " + ds + ", lease "
                      + (expired ? "expired" : "current") + ")", Map.of("subject", id)));
            }
          }
          changed = true;
        } else {
          // a verdict that holds on as it becomes observed is observed from now, without an event of its own
          long since = prev.sinceWallMillis() == 0 && observed ? System.currentTimeMillis() : prev.sinceWallMillis();
          peers.put(id, new PeerStatus(id, v, prev.sinceNanos(), since, lanOk, ds, expired, upl));
        }
      }
      if (changed) wake.release();
      deadlineRound.in(nextExpiry);
    } catch (RuntimeException e) {
      log.warn("detection round failed: {}", e.toString());
    }
  }

  private record UplinkSeen(long version, boolean ok) {}

  private final Map<String, UplinkSeen> uplinkSeen = new ConcurrentHashMap<>();

  /** The peer's published uplink state, parsed again only when its record changed (this runs 20 times a second). */
  private boolean uplinkOk(String id) {
    Entry e = store.localGet(Keys.server(id)).orElse(null);
    if (e == null) return true;
    UplinkSeen seen = uplinkSeen.get(id);
    if (seen != null && seen.version() == e.version()) return seen.ok();
    boolean ok = Json.read(e.value(), ServerRecord.class).uplinkOk();
    uplinkSeen.put(id, new UplinkSeen(e.version(), ok));
    return ok;
  }

  /**
   * Rounds come once a heartbeat interval; a deadline between two rounds (a peer's acks running out, a LAN-lost peer's
   * lease running out) gets a round of its own at that instant (DeadlineRound). Rounds every half interval
   * were a fifth of an idle agent's timer wake-ups and were still up to 50 ms late for the deadline that matters.
   */
  private long detectEveryMillis() { return Math.max(10, timing.heartbeatInterval().toMillis()); }

  /** A round at a peer's deadline when it falls between two periodic rounds. */
  private DeadlineRound deadlineRound; // set in startAll, before the first detection round

  /** Publishes this server's record and readiness; trims the event history (leader only). */
  private void housekeeping() {
    try {
      String leader = store.leaderId().orElse(null);
      if (leader != null && !leader.equals(lastLeader)) {
        if (lastLeader != null) metrics.leaderChanged();
        lastLeader = leader;
      }
      syncMembers();
      replicaDoctor.check();
      uplink.probe();
      ServerRecord rec = new ServerRecord(self, config.address(), apiUrl(), config.heartbeatPort(), config.isWitness(),
          inventory, uplink.ok(), uplink.reason(), null);
      if (!rec.equals(publishedRecord)) {
        store.put(Keys.server(self), Json.write(rec));
        if (publishedRecord != null && publishedRecord.uplinkOk() != rec.uplinkOk()) {
          emit(new Event(null, 0, rec.uplinkOk() ? "UPLINK_OK" : "UPLINK_LOST", self, null,
              self + (rec.uplinkOk() ? " reaches its uplink again" : " lost its uplink: " + rec.uplinkReason()), Map.of()));
        }
        publishedRecord = rec;
      }
      Map<String, List<String>> ready = readinessNow();
      if (!ready.equals(publishedReadiness)) {
        store.put(Keys.readiness(self), Json.write(ready));
        publishedReadiness = ready;
      }
      if (store.isLeader()) {
        List<Entry> events = store.localList(Keys.EVENTS);
        if (events.size() > MAX_EVENTS) {
          List<Op> dels = new ArrayList<>();
          for (Entry e : events.subList(0, events.size() - MAX_EVENTS)) {
            dels.add(Op.delete(e.key()));
            Event ev = Json.read(e.value(), Event.class);
            dels.add(Op.delete(Notifier.claimKey("webhook", ev)));
            dels.add(Op.delete(Notifier.claimKey("command", ev)));
          }
          store.txn(dels);
        }
      }
    } catch (StoreUnavailableException e) {
      log.debug("housekeeping: {}", e.getMessage());
    } catch (RuntimeException e) {
      log.warn("housekeeping failed: {}", e.toString());
    }
  }

  private long mustApplyIndex() { return Math.max(mustApply.get(), leaseKeeper.lastWriteIndex()); }

  /** This replica's Raft state, for /api/v1/cluster. */
  public Map<String, Object> replicaStatus() { return replicaDoctor.status(); }

  // ---- the reconcile loop --------------------------------------------------------------------------------------

  private static final long BUSY_ROUND_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /** When time alone next changes a decision (ticker nanos; see Decider.nanosUntilTimedChange). */
  private volatile long timedChangeAt = Long.MAX_VALUE;

  /**
   * The longest the loop sleeps with nothing to wake it: what a decision reads wakes it when it changes (the database,
   * a verdict, the lease, this server's processes), and the Decider names the instants time alone matters. What is
   * left is polled on these rounds: the resources an app requires (a directory, a free port). Rounds every 100 ms,
   * whatever happened, were a twentieth of an idle agent's CPU. Capped well under the pause check's one second, so a
   * round that comes after a whole idle sleep never looks like a pause.
   */
  private long idleRoundNanos() {
    return Math.max(TimeUnit.MILLISECONDS.toNanos(100), Math.min(timing.heartbeatTimeout().toNanos(), TimeUnit.MILLISECONDS.toNanos(500)));
  }

  private void reconcileLoop() {
    while (running) {
      try {
        long at = timedChangeAt; // nanoTime has an arbitrary origin: MAX_VALUE minus a negative reading would overflow
        long untilTimed = at == Long.MAX_VALUE ? Long.MAX_VALUE : at - ticker.nanos();
        wake.tryAcquire(Math.max(1_000_000, Math.min(idleRoundNanos(), untilTimed)), TimeUnit.NANOSECONDS);
        wake.drainPermits();
        long now = ticker.nanos();
        long gap = now - lastRoundNanos;
        lastRoundNanos = now;
        // Doubt yourself first: after a long local pause (GC, SIGSTOP) every peer looks dead; skip a round.
        if (gap > Math.max(timing.heartbeatTimeout().toNanos(), 1_000_000_000L)) {
          pausesDetected++;
          log.warn("{} was paused for {} ms; skipping a decision round and forgiving peers", self, gap / 1_000_000);
          heartbeat.forgiveAll();
          continue;
        }
        round(now);
        // counted from the end of a round: a long round (a mass failover) is work, not a pause to forgive peers for
        lastRoundNanos = ticker.nanos();
        // Rest as long as the round took (up to 100 ms): with 1,000 apps, every commit of a mass failover woke a round of
        // tens of milliseconds, back to back, and the loop took a whole core from the spawns and the lease renewals
        // (JFR of a 1,000-app failover: half of the agent's samples). A round of a few apps takes well under 1 ms.
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
   * One decision round. A Start is only executed once this replica has applied every write this agent made
   * (its latest lease write, its latest commit): a replica still catching up after a restart, or one that has not
   * yet applied this agent's own hand-over, would otherwise restart an app that already moved (found by
   * LocalClusterTest: a restarted primary started epoch 1 again from its stale replica).
   */
  private long lastUnprotectedCheck = Long.MIN_VALUE / 2;

  private void round(long now) {
    // The check comes BEFORE the snapshot: the snapshot is then at least as fresh as what was checked. Checked after,
    // a replica catching up between the two let a restarted agent start from a stale snapshot (chaos seed 1942036729771).
    boolean current = replicaCurrent();
    heldForReplica = !current;
    if (!current && now - lastStaleLog > 1_000_000_000L) {
      lastStaleLog = now;
      log.info("{} holds starts until its replica catches up (applied {} < {})", self, store.lastAppliedIndex(),
          Math.max(mustApply.get(), leaseKeeper.lastWriteIndex()));
    }
    ClusterSnapshot snap = snapshot();
    refreshUnmet(snap);
    forgetFailures(snap, now);
    LocalView view = localView(current, uncertainIn(snap));
    updateRoutes(snap);
    for (App a : snap.apps().values()) metrics.appState(a.tag(), a.state());
    // a warning, not a decision: once a second is soon enough, and it walks every app's servers
    if (store.isLeader() && now - lastUnprotectedCheck >= 1_000_000_000L) {
      lastUnprotectedCheck = now;
      warnUnprotected(snap, view);
    }
    long untilTimed = Decider.nanosUntilTimedChange(snap, view, settings, now);
    List<Action> actions = Decider.decide(snap, view, settings, now);
    // A round that acted goes again within 100 ms, as every round did before the loop learnt to sleep: what it did
    // (a commit whose outcome is unknown, a start the supervisor refused) may need deciding again with no change to
    // wake the loop. Only a round that decided nothing waits for a change or a timed instant.
    if (!actions.isEmpty()) untilTimed = Math.min(untilTimed, BUSY_ROUND_NANOS);
    timedChangeAt = untilTimed == Long.MAX_VALUE ? Long.MAX_VALUE : now + untilTimed;
    List<Action.Commit> commits = new ArrayList<>();
    for (Action a : actions) {
      if (a instanceof Action.Commit c) commits.add(c);
      else execute(a);
    }
    commitAll(commits);
  }

  /**
   * Takeover readiness: the leader warns at once, not at 3 a.m. during the failover, when an app has no backup that
   * could take it now, and says why for each.
   */
  private void warnUnprotected(ClusterSnapshot snap, LocalView view) {
    for (App a : snap.apps().values()) {
      if (!a.hasHost()) continue;
      List<String> reasons = new ArrayList<>();
      boolean any = false;
      for (String s : a.servers()) {
        if (s.equals(a.host())) continue;
        if (Decider.qualifies(s, a, snap, view, settings(), nowNanos())) {
          any = true;
          break;
        }
        List<String> miss = Decider.missingOn(s, a, snap, view, settings(), nowNanos());
        PeerStatus ps = peers.get(s);
        reasons.add(s + (!miss.isEmpty() ? " lacks " + String.join(", ", miss)
            : " is " + (s.equals(self) ? "this agent without a lease" : ps == null ? "unknown" : ps.verdict())));
      }
      if (any) {
        unprotected.remove(a.tag());
      } else if (unprotected.add(a.tag())) {
        emit(new Event(null, 0, "NO_QUALIFIED_BACKUP", self, a.tag(), "WARNING: " + a.tag() + " on " + a.host()
            + " has no backup that could take it now: " + String.join("; ", reasons), Map.of()));
      }
    }
  }

  /**
   * Client rerouting: each app's cluster port forwards to its host, but only to a host that runs it (RUNNING) and
   * that this agent does not believe DOWN; otherwise new connections wait. Addresses come from this agent's own
   * configuration, so it never forwards to anything but a cluster server.
   */
  private void updateRoutes(ClusterSnapshot snap) {
    Map<String, String> addresses = new HashMap<>();
    members().forEach(p -> addresses.put(p.id(), p.address()));
    List<dev.understudy.route.Forwarder.Route> routes = new ArrayList<>();
    for (App a : snap.apps().values()) {
      if (a.service() == null) continue;
      java.util.Optional<InetSocketAddress> up = java.util.Optional.empty();
      if (a.hasHost() && a.state() != dev.understudy.model.AppState.STARTING && addresses.containsKey(a.host())) {
        PeerStatus ps = peers.get(a.host());
        boolean reachable = a.host().equals(self) ? leaseKeeper.valid() : ps != null && ps.verdict() != Verdict.DOWN;
        if (reachable) up = java.util.Optional.of(new InetSocketAddress(addresses.get(a.host()), a.service().appPort()));
      }
      routes.add(new dev.understudy.route.Forwarder.Route(a.tag(), a.service().clusterPort(), up));
    }
    if (!routes.equals(lastRoutes)) {
      lastRoutes = routes;
      forwarder.update(routes);
      if (kernelRoutes != null) kernelRoutes.update(routes);
    }
  }

  public dev.understudy.route.Forwarder forwarder() { return forwarder; }

  /** This replica has applied every write this agent made (so its view includes everything that moved its apps). */
  public boolean replicaCurrent() {
    return store.lastAppliedIndex() >= mustApplyIndex();
  }

  public ClusterSnapshot snapshot() {
    Map<String, App> apps = new LinkedHashMap<>();
    for (Entry e : store.localList(Keys.APPS)) {
      App cached = parsedApps.get(e.key());
      App a = cached != null && cached.version() == e.version() ? cached : Json.read(e.value(), App.class).withVersion(e.version());
      if (a != cached) parsedApps.put(e.key(), a);
      apps.put(a.tag(), a);
    }
    if (parsedApps.size() > apps.size()) parsedApps.keySet().removeIf(k -> !apps.containsKey(k.substring(Keys.APPS.length())));
    Map<String, ServerRecord> servers = new HashMap<>();
    for (Entry e : store.localList(Keys.SERVERS)) {
      ServerRecord r = Json.read(e.value(), ServerRecord.class);
      servers.put(r.id(), r);
    }
    Map<String, Map<String, List<String>>> readiness = new HashMap<>();
    for (Entry e : store.localList(Keys.READINESS)) {
      @SuppressWarnings("unchecked")
      Map<String, List<String>> m = Json.read(e.value(), Map.class);
      readiness.put(e.key().substring(Keys.READINESS.length()), m);
    }
    return new ClusterSnapshot(apps, servers, readiness);
  }

  /**
   * Apps this agent wrote with an unknown outcome, by the version the write was conditional on. Such a write may still
   * apply (a hand-over the old host then must not undo by restarting the app at the old epoch), so it counts as
   * possibly applied until this replica shows the app at another version: then the write either applied or never can.
   */
  private final Map<String, Long> uncertain = new ConcurrentHashMap<>();

  /** The apps still uncertain in {@code snap} (and forgets those the replica has resolved). */
  private java.util.Set<String> uncertainIn(ClusterSnapshot snap) {
    uncertain.entrySet().removeIf(e -> {
      App a = snap.apps().get(e.getKey());
      return a == null || a.version() != e.getValue();
    });
    return java.util.Set.copyOf(uncertain.keySet());
  }

  /** The {@code resets} of each app when its failures here were last checked against it. */
  private final Map<String, Long> failuresReset = new ConcurrentHashMap<>();

  /**
   * Failures here count per app until they expire or an operator resets the app; never because a commit happened (a
   * host change used to clear them, and an app failing everywhere bounced between servers without end).
   */
  private void forgetFailures(ClusterSnapshot snap, long now) {
    long window = settings.restartWindow().toNanos();
    for (String tag : crashes.keySet()) {
      App a = snap.apps().get(tag);
      Long seen = failuresReset.get(tag);
      if (a == null || (seen != null && seen != a.resets())) {
        crashes.remove(tag);
        if (a != null) log.info("{}: failures of {} here forgotten (reset by an operator)", self, tag);
      } else {
        crashes.get(tag).removeIf(t -> now - t > window);
      }
    }
    for (App a : snap.apps().values()) failuresReset.put(a.tag(), a.resets());
    failuresReset.keySet().retainAll(snap.apps().keySet());
  }

  /** What this server publishes as lacking for each app: missing requirements, and being passed over after failures. */
  private Map<String, List<String>> readinessNow() {
    Map<String, List<String>> ready = new java.util.TreeMap<>(unmet);
    long now = ticker.nanos();
    crashes.forEach((tag, f) -> {
      List<Long> copy = List.copyOf(f);
      if (dev.understudy.decide.FailurePolicy.passedOver(copy, settings, now)) {
        List<String> l = new ArrayList<>(ready.getOrDefault(tag, List.of()));
        l.add(dev.understudy.decide.FailurePolicy.reason(dev.understudy.decide.FailurePolicy.counted(copy, settings, now), settings));
        ready.put(tag, l);
      }
    });
    return ready;
  }

  private void refreshUnmet(ClusterSnapshot snap) {
    var running = supervisor.instances();
    Map<String, List<String>> fresh = new HashMap<>();
    for (App a : snap.apps().values()) {
      if (!a.servers().contains(self)) continue;
      List<String> miss = Resources.unmet(a.resources(), inventory, config.address(), running.containsKey(a.tag()));
      if (!miss.isEmpty()) fresh.put(a.tag(), miss);
    }
    unmet.keySet().retainAll(fresh.keySet());
    unmet.putAll(fresh);
  }

  public LocalView localView() { return localView(replicaCurrent(), java.util.Set.copyOf(uncertain.keySet())); }

  private LocalView localView(boolean current, java.util.Set<String> uncertainTags) {
    Map<String, PeerView> pv = new HashMap<>();
    for (PeerStatus p : peers.values()) {
      pv.put(p.server(), new PeerView(p.server(), p.verdict(), p.sinceNanos(), leases.expired(p.server()) && replicaCurrent(),
          leases.version(p.server()), leases.revoked(p.server())));
    }
    Map<String, List<Long>> crashCopy = new HashMap<>();
    crashes.forEach((k, v) -> crashCopy.put(k, List.copyOf(v)));
    return new LocalView(self, leaseKeeper.valid(), supervisor.instances(), pv, Map.copyOf(unmet), uplink.ok(), crashCopy,
        current, uncertainTags);
  }

  private void execute(Action a) {
    if (a instanceof Action.Start s) {
      // Re-checked just before the process is spawned: the same lease incarnation, a current replica, and (for a
      // host's start) the database still naming this server at that epoch. A start decided before a pause must not run
      // after it under a new lease (found by chaos seed 4724750990491: a 50 ms overlap).
      long inc = leaseKeeper.incarnation();
      App app = s.app();
      supervisor.start(app, s.standby(), () -> leaseKeeper.mayStart() && leaseKeeper.incarnation() == inc && replicaCurrent()
          && (s.standby() || store.localGet(Keys.app(app.tag())).map(e -> Json.read(e.value(), App.class))
              .map(cur -> self.equals(cur.host()) && cur.epoch() == app.epoch()).orElse(false)));
    }
    else if (a instanceof Action.Promote p) supervisor.promote(p.app());
    else if (a instanceof Action.Stop s) supervisor.stop(s.tag(), s.reason());
    else if (a instanceof Action.Notify n) emit(n.event());
  }

  /** Commits of one round that share a log entry (see commitAll). */
  private static final int COMMITS_PER_ENTRY = 32;

  /**
   * A round's commits (each a compare-and-set on its own app) go out together, up to {@link #COMMITS_PER_ENTRY} in one
   * log entry, each still applied or refused on its own; the round waits for them all. One at a time, a mass failover
   * of 200 apps spent 30 s in a single round; one entry each, 1,000 apps' commits queued the lease renewals behind
   * them long enough for leases to lapse.
   */
  private void commitAll(List<Action.Commit> commits) {
    List<java.util.concurrent.CompletableFuture<?>> pending = new ArrayList<>();
    List<Action.Commit> batch = new ArrayList<>();
    List<Event> events = new ArrayList<>();
    List<List<Op>> txns = new ArrayList<>();
    for (Action.Commit c : commits) {
      Event ev = c.event() == null ? null : stamp(c.event());
      var built = CommitOps.build(c, self, store::localGet, ev);
      if (built.isEmpty()) continue; // our view moved on; decide again with the new one
      batch.add(c);
      events.add(ev);
      txns.add(built.get());
      if (txns.size() == COMMITS_PER_ENTRY) {
        pending.add(sendCommits(batch, events, txns));
        batch = new ArrayList<>();
        events = new ArrayList<>();
        txns = new ArrayList<>();
      }
    }
    if (!txns.isEmpty()) pending.add(sendCommits(batch, events, txns));
    try {
      java.util.concurrent.CompletableFuture.allOf(pending.toArray(java.util.concurrent.CompletableFuture[]::new))
          .get(3, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
      log.debug("some of {} commit entries did not complete in time (outcome unknown): {}", pending.size(), e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private java.util.concurrent.CompletableFuture<?> sendCommits(List<Action.Commit> batch, List<Event> events, List<List<Op>> txns) {
    long t0 = System.nanoTime();
    var sent = txns.size() == 1 ? store.txnPipelined(txns.get(0)).thenApply(List::of) : store.txnBatch(txns);
    return sent.handle((results, err) -> {
      if (err != null) {
        // possibly applied: until this replica shows each app moved past the version written over, nothing of it starts
        for (Action.Commit c : batch) uncertain.put(c.updated().tag(), c.updated().version());
        log.info("commits for {} apps: outcome unknown ({}); holding their starts until the replica shows it", batch.size(), err.toString());
        return null;
      }
      metrics.commitTook(Duration.ofNanos(System.nanoTime() - t0));
      for (int i = 0; i < batch.size(); i++) committed(batch.get(i), events.get(i), results.get(i));
      return null;
    });
  }

  private void committed(Action.Commit c, Event ev, TxnResult r) {
    App updated = c.updated();
    uncertain.remove(updated.tag(), updated.version());
    if (!r.ok() && r.actualVersion() != null) {
      // the write that beat ours: decide again only from a replica that has applied it
      mustApply.accumulateAndGet(r.actualVersion(), Math::max);
    }
    if (r.ok()) {
      mustApply.accumulateAndGet(r.version(), Math::max);
      noteFailoverTiming(c, updated);
      if (ev != null) log.info("{}: {}", ev.kind(), ev.message());
    } else {
      log.debug("commit for {} lost a race on {} (expected {}, was {}); deciding again", updated.tag(),
          r.conflictKey(), r.expectedVersion(), r.actualVersion());
    }
  }

  /** Times a failover this agent made: from the old host's DOWN verdict to RUNNING here (metrics, events, why). */
  private void noteFailoverTiming(Action.Commit c, App updated) {
    if (c.leaseServer() != null) {
      PeerStatus ps = peers.get(c.leaseServer());
      takeovers.put(updated.tag(), new long[] {updated.epoch(), ps == null ? ticker.nanos() : ps.sinceNanos()});
    } else if (updated.state() == dev.understudy.model.AppState.RUNNING) {
      long[] t = takeovers.remove(updated.tag());
      if (t != null && t[0] == updated.epoch()) {
        double secs = (ticker.nanos() - t[1]) / 1e9;
        metrics.failoverTook(secs);
        emit(new Event(null, 0, "FAILOVER_DONE", self, updated.tag(), String.format(java.util.Locale.ROOT,
            "%s took over %s at epoch %d in %.0f ms (from the DOWN verdict to RUNNING)", self, updated.tag(), updated.epoch(), secs * 1000),
            Map.of("failoverMs", String.valueOf(Math.round(secs * 1000)), "epoch", String.valueOf(updated.epoch()))));
      }
    }
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

  // ---- accessors for the API -----------------------------------------------------------------------------------

  public String id() { return self; }
  public AgentConfig config() { return config; }
  public Timing timing() { return timing; }
  public Settings settings() { return settings; }
  /** This agent's monotonic clock (the one every decision's {@code now} is read from). */
  public long nowNanos() { return ticker.nanos(); }
  public RaftStore store() { return store; }
  public Supervisor supervisor() { return supervisor; }
  public HeartbeatService heartbeat() { return heartbeat; }
  public DiskPulse disk() { return disk; }
  public LeaseKeeper leaseKeeper() { return leaseKeeper; }
  public Map<String, PeerStatus> peerStatus() { return Map.copyOf(peers); }
  public Inventory inventory() { return inventory; }
  public boolean uplinkOk() { return uplink.ok(); }
  public long pausesDetected() { return pausesDetected; }
  public void onEvent(java.util.function.Consumer<Event> l) { eventListeners.add(l); }
  public void removeEventListener(java.util.function.Consumer<Event> l) { eventListeners.remove(l); }
  /** Called after every applied change (the console refreshes on it). */
  public void onChange(Runnable r) { changeListeners.add(r); }
  public void removeChangeListener(Runnable r) { changeListeners.remove(r); }
  public Metrics metrics() { return metrics; }
  public dev.understudy.api.ApiServer api() { return api; }
  public void wake() { wake.release(); }

  /**
   * Every server of the cluster, in membership order: the configuration file's peers, then those added by an operator;
   * minus those removed.
   */
  public List<AgentConfig.Peer> members() {
    Map<String, AgentConfig.Peer> out = new LinkedHashMap<>();
    for (AgentConfig.Peer p : config.peers()) {
      out.put(p.id(), new AgentConfig.Peer(p.id(), p.address(), config.apiPort(p), config.raftPort(p), config.heartbeatPort(p)));
    }
    List<dev.understudy.model.Member> added = new ArrayList<>();
    for (Entry e : store.localList(Keys.MEMBERS)) added.add(Json.read(e.value(), dev.understudy.model.Member.class));
    added.sort(java.util.Comparator.comparingInt(dev.understudy.model.Member::order));
    for (var m : added) {
      if (m.removed()) out.remove(m.id());
      else out.put(m.id(), new AgentConfig.Peer(m.id(), m.address(), m.apiPort(), m.raftPort(), m.heartbeatPort()));
    }
    return List.copyOf(out.values());
  }

  /** Applies membership changes to the detectors: heartbeats, disk slots, verdicts. */
  private void syncMembers() {
    List<AgentConfig.Peer> ms = members();
    Map<String, InetSocketAddress> hb = new HashMap<>();
    for (var p : ms) hb.put(p.id(), new InetSocketAddress(p.address(), p.heartbeatPort()));
    heartbeat.setPeers(hb);
    if (disk != null) disk.setServers(ms.stream().map(AgentConfig.Peer::id).toList());
    long now = ticker.nanos();
    for (var p : ms) {
      if (!p.id().equals(self)) {
        peers.putIfAbsent(p.id(), new PeerStatus(p.id(), Verdict.DOWN, now, 0, false,
            disk == null ? DiskState.NOT_CONFIGURED : DiskState.STALE, true, true));
      }
    }
    peers.keySet().retainAll(hb.keySet());
  }

  public String apiUrl() { return "http://" + config.address() + ":" + config.apiPort(); }

  @Override
  public void close() {
    if (!running) return;
    running = false;
    log.info("agent {} stopping: stopping its apps", self);
    if (loop != null) loop.interrupt();
    timers.shutdownNow();
    diskIo.shutdownNow();
    if (supervisor != null) {
      supervisor.stopAll("agent shutting down");
      supervisor.close();
    }
    if (api != null) api.close();
    if (kernelRoutes != null) kernelRoutes.close();
    if (forwarder != null) forwarder.close();
    if (notifier != null) notifier.close();
    if (events != null) events.close();
    if (heartbeat != null) heartbeat.close();
    try {
      if (disk != null) disk.close();
    } catch (IOException ignored) {
      // closing
    }
    if (store != null) store.close();
  }

  static boolean same(Object a, Object b) { return Objects.equals(a, b); }
}
