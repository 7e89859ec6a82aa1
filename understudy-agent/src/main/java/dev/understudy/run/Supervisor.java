package dev.understudy.run;

import dev.understudy.decide.Instance;
import dev.understudy.detect.Ticker;
import dev.understudy.model.App;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts and stops apps as real OS processes (load/unload), each leading its own process group, guarded by this
 * agent's {@link Fence}, which kills every group at the deadline the agent's lease renewals move on: a paused or dead
 * agent cannot leave an app running past its lease.
 */
public final class Supervisor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Supervisor.class);
  static { ProcessGroups.preferVfork(); }

  /** What the supervisor tells the agent. */
  public interface Listener {
    void exited(String tag, long epoch, boolean crashed, int exitCode);

    /** The app could not be started here (a managed resource failed, the program is missing...). */
    default void startFailed(String tag, long epoch, String why) {}

    /** The app failed its health check too many times in a row and is being killed (a crash follows). */
    default void unhealthy(String tag, long epoch, String why) {}

    /** The app's instance here (not a warm standby) became RUNNING: started, healthy if it has a check. */
    default void running(String tag, long epoch) {}

    /** A managed resource of the stopped app could not be released: the app stays here, stopping, until it is. */
    default void releaseFailed(String tag, long epoch, String why) {}

    void changed();
  }

  private final String self;
  private final String address;
  private final String agentUrl;
  private final Path dataDir;
  private final AppSteps steps;
  private final Path launchScript;
  private final Spawner spawner;
  private final Fence fence;
  private final ProcessStop stopper;
  private final ResourceRelease release;
  /** Null where cgroup v2 cannot be used: apps are then contained by their process group alone. */
  private final AppCgroups cgroups;
  private final Ticker ticker;
  private final BooleanSupplier mayStart;
  private final java.util.function.LongSupplier runUntil;
  private final Listener listener;
  private final Map<String, Proc> procs = new ConcurrentHashMap<>();
  private final ExecutorService workers = Executors.newCachedThreadPool(r -> daemon(r, "supervisor"));
  /**
   * Launches run on a few threads, not one each: spawning is CPU-bound, and 200 at once on 2 cores made every one of
   * them (and the agent's lease renewals) late. Resources that take seconds to acquire hold a launcher meanwhile.
   */
  private final ExecutorService launchers = Executors.newFixedThreadPool(LAUNCHERS, r -> daemon(r, "launcher"));
  private static final int LAUNCHERS = Math.max(2, Runtime.getRuntime().availableProcessors());
  private volatile BooleanSupplier readyToSpawn = () -> true;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "health"));
  /**
   * Its own thread: a slow health check must never delay the refresh that keeps every app alive. It tells the fence a
   * new deadline when a renewal moved it (five times a second at defaults: {@link #leaseMoved}) and when an app starts.
   */
  private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "fence-refresh"));

  /**
   * {@code mayStart}: this server may start an app now (its lease is held with time to spare). {@code runUntil}: the
   * {@link System#nanoTime()} instant its apps must all be dead by unless the lease is renewed ({@link Long#MIN_VALUE}
   * when no lease is held): the fence kills them then, whatever this agent is doing.
   */
  private volatile java.util.function.BiConsumer<String, Long> fenceKills = (tag, epoch) -> { };

  /** Told of every app the fence killed at its deadline (tag, epoch), for status to say so. */
  public void onFenceKill(java.util.function.BiConsumer<String, Long> listener) { this.fenceKills = listener; }

  /** Where the agent's API is HTTPS: the cluster CA's PEM text, which its apps get as {@code UNDERSTUDY_CA}. */
  public void clusterCaForApps(java.util.function.Supplier<String> pem) { steps.clusterCa(pem); }

  public Supervisor(String self, String address, String agentUrl, Path dataDir, Ticker ticker,
                    BooleanSupplier mayStart, java.util.function.LongSupplier runUntil, Listener listener) throws IOException {
    this.self = self;
    this.address = address;
    this.agentUrl = agentUrl;
    this.dataDir = dataDir;
    this.steps = new AppSteps(self, address, agentUrl, dataDir);
    this.ticker = ticker;
    this.mayStart = mayStart;
    this.runUntil = runUntil;
    this.listener = listener;
    this.health = new HealthRounds(address, steps, ticker, listener, workers);
    Path run = dataDir.resolve("run");
    Files.createDirectories(run);
    Files.createDirectories(dataDir.resolve("logs"));
    this.launchScript = run.resolve("launch.sh");

    try (InputStream in = Supervisor.class.getResourceAsStream("launch.sh")) {
      Files.copy(in, launchScript, StandardCopyOption.REPLACE_EXISTING);
    }
    Files.deleteIfExists(run.resolve("guard.sh")); // the per-app guard of earlier versions
    this.fence = new Fence(run, dataDir.resolve("fence.pid"), this::fenceDied);
    this.adopter = new Adopter(run);
    this.credentials = new InstanceCredentials(procs);
    this.stopper = new ProcessStop(fence, dataDir, steps);
    this.release = new ResourceRelease(steps, dataDir, listener, timer, workers, this::finish);
    this.held = fence.takeHeld(HELD_SLACK_NANOS); // an earlier life's apps, left to it at a restart: adopted, not killed
    if (held == null) {
      fence.killLeftover();
      ProcessGroups.killLeftovers(run);
      adopter.killLeftoverUnits();
    }
    steps.releases = new FenceReleases(fence, run, dataDir.resolve("logs"), runUntil);
    if (held == null) steps.releases.releaseLeftovers(java.util.Set.of());
    this.cgroups = AppCgroups.forAgent(dataDir, held == null).orElse(null);
    this.spawner = new Spawner(steps, new AgentDriver(run, dataDir.resolve("apps")), launchScript, cgroups, fence, dataDir, runUntil);
    fence.start();
  }

  private static final long HELD_SLACK_NANOS = 1_000_000_000L; // a held fence with less left is not relied on
  private final Fence.Held held;
  private final Adopter adopter;
  private final InstanceCredentials credentials;

  /** The deadline of the lease an earlier life of this agent parted with, while its held fence guards apps (else MIN_VALUE). */
  public long heldRunUntil() { return held == null ? Long.MIN_VALUE : held.deadlineNanos(); }

  /** Adopts what the earlier life left running ({@link Adopter}), guarded here, then lets the held fence go. */
  public synchronized void adoptLeftovers() throws IOException {
    if (held == null) return;
    for (Proc p : adopter.adopt(fence, steps.releases, runUntil, ticker.nanos())) {
      procs.put(p.app.tag(), p);
      p.process.onExit().thenRun(() -> onExit(p));
    }
    steps.releases.releaseLeftovers(procs.keySet());
    if (cgroups != null) cgroups.killLeftovers(procs.keySet());
    Fence.releaseHeld(held);
    Files.deleteIfExists(dataDir.resolve("fence.held.pid"));
    if (!procs.isEmpty()) healthTicking();
    listener.changed();
  }

  private volatile boolean handedOn; // its apps are the next life's (holdForRestart)
  /** This agent stops to restart: its apps run on, guarded until {@code runUntilNanos}, for the next life to adopt. */
  public void holdForRestart(long runUntilNanos) throws IOException {
    refresher.shutdownNow();
    timer.shutdownNow();
    fence.hold(runUntilNanos);
    handedOn = true; // only once the fence holds them: if it cannot, the agent stops them, and cleans up after them
  }

  /** The lease's deadline may have moved: the fence hears of it at once, on its own thread, while an app runs. */
  public void leaseMoved() {
    // a start refused for want of lease is decided again once the lease allows it, not at the loop's next idle round
    if (startRefused && mayStart.getAsBoolean()) {
      startRefused = false;
      listener.changed();
    }
    if (procs.isEmpty()) return;
    try {
      refresher.execute(this::refreshFence);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // the supervisor is closing
    }
  }

  /** The health tick runs only while there are apps to check; log rotation, started with the first app, stays. */
  private java.util.concurrent.ScheduledFuture<?> healthTicks;
  private java.util.concurrent.ScheduledFuture<?> logRotation;

  private void healthTicking() {
    synchronized (timer) {
      if (healthTicks == null && !timer.isShutdown()) healthTicks = timer.scheduleAtFixedRate(this::checkHealth, 50, 50, TimeUnit.MILLISECONDS);
      if (logRotation == null && !timer.isShutdown()) logRotation = timer.scheduleWithFixedDelay(this::rotateLogs, 10, 10, TimeUnit.SECONDS);
    }
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  public Map<String, Instance> instances() {
    Map<String, Instance> out = new HashMap<>();
    procs.forEach((tag, p) -> out.put(tag, new Instance(tag, p.app.epoch(), p.phase, p.sinceNanos, p.standby)));
    return out;
  }

  public boolean idle() { return procs.isEmpty(); }

  /**
   * This server became the host: its warm standby instance of the app becomes the host's, at the app's epoch, once the
   * app's managed resources are acquired. A standby holds none while another server hosts the app (a virtual IP or a
   * mount on two servers at once); a resource that cannot be acquired now stops the instance and counts as a failure.
   */
  public void promote(App app) {
    Proc p = procs.get(app.tag());
    if (p == null) return;
    synchronized (p) {
      if (!p.standby || p.stopRequested || p.promoting) return;
      p.promoting = true;
    }
    launchers.execute(() -> {
      Path out = dataDir.resolve("logs").resolve(app.tag() + ".log");
      String failure = steps.acquireAll(p, app, out);
      if (failure != null) {
        String why = failure + " (at promotion)";
        log.error("cannot promote {}: {}", app.tag(), why);
        p.promoting = false;
        if (!p.stopRequested) {
          listener.startFailed(app.tag(), app.epoch(), why);
          listener.exited(app.tag(), app.epoch(), true, -1);
          stop(app.tag(), why);
        }
        return;
      }
      synchronized (p) {
        p.promoting = false;
        if (p.stopRequested) return;
        p.app = app;
        p.standby = false;
        p.sinceNanos = ticker.nanos(); // its start timeout counts from here: a standby waits paused as long as it must
      }
      adopter.save(p);
      log.info("promoted the warm standby of {} to host at epoch {}", app.tag(), app.epoch());
      listener.changed();
    });
  }

  /** The credentials of this server's instances, for the client API. */
  public InstanceCredentials credentials() { return credentials; }

  /**
   * Starts the app at its epoch: acquires its managed resources in order, then launches it under the fence, on a
   * worker thread (a mount may take seconds). Idempotent: a second call while it starts or runs does nothing.
   */
  public synchronized void start(App app) { start(app, false, () -> true); }

  /**
   * {@code standby}: an aware app pre-started paused on a server that is not its host (it waits in awaitHost).
   * {@code stillDecided}: checked again just before the process is spawned (resources may take seconds, the agent may
   * be paused meanwhile): false when what the start was decided on no longer holds, and then nothing is spawned.
   */
  /** A start was refused because the lease left too little time (see leaseMoved). */
  private volatile boolean startRefused;

  public synchronized void start(App app, boolean standby, BooleanSupplier stillDecided) {
    if (procs.containsKey(app.tag())) return;
    if (!mayStart.getAsBoolean()) {
      startRefused = true;
      return;
    }
    Proc proc = new Proc(app, ticker.nanos());
    proc.standby = standby;
    proc.stillDecided = stillDecided;
    procs.put(app.tag(), proc);
    healthTicking();
    listener.changed();
    launchers.execute(() -> launch(proc));
  }

  private static final long MAX_PACE_NANOS = 2_000_000_000L;

  /**
   * {@code readyToSpawn}: false while this agent had better not spawn yet; a launch waits for it, up to 2 s, before its
   * final checks. Pacing only, not safety (the checks come after). The agent uses it for two things seen in a
   * 1,000-app failover: its replica trailing its own writes by milliseconds (the final check then refused the start,
   * which waited a round to be decided again), and its lease renewals running late (a machine starved by the spawns
   * themselves: a renewal too late fences the agent, and every app it just started is killed and started elsewhere).
   */
  public void paceStartsWith(BooleanSupplier readyToSpawn) { this.readyToSpawn = readyToSpawn; }

  private void launch(Proc proc) {
    App app = proc.app;
    try {
      Path logs = dataDir.resolve("logs");
      Path out = logs.resolve(app.tag() + ".log");
      AppSteps.rotate(out);
      // a warm standby acquires them when promoted: until then another server hosts the app and holds them
      String failure = proc.standby ? null : steps.acquireAll(proc, app, out);
      if (failure != null && !proc.stopRequested) {
        fail(proc, failure);
        return;
      }
      long paceUntil = ticker.nanos() + MAX_PACE_NANOS;
      while (!readyToSpawn.getAsBoolean() && mayStart.getAsBoolean() && !proc.stopRequested && ticker.nanos() < paceUntil) {
        Thread.sleep(5);
      }
      // Per instance, not the whole supervisor: spawning takes milliseconds (tens under load), and a mass failover
      // launching hundreds of apps would otherwise hold up the decision loop's every start() and stop() behind it.
      // What must be atomic is this instance's "not asked to stop" check with its spawn (see stop()).
      synchronized (proc) {
        if (proc.stopRequested || !mayStart.getAsBoolean() || !proc.stillDecided.getAsBoolean()) {
          release.thenFinish(proc, () -> {
            listener.exited(app.tag(), app.epoch(), false, 0);
            listener.changed();
          });
          return;
        }
        Process p = spawner.spawn(proc, out);
        adopter.save(proc);
        p.onExit().thenRun(() -> onExit(proc));
      }
      listener.changed();
    } catch (IOException | RuntimeException e) {
      fail(proc, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the supervisor is closing
    }
  }

  /** Running apps' logs over the limit are rotated in place (an app that logs a lot no longer fills the disk). */
  private void rotateLogs() { AppSteps.rotateWhileRunning(procs.keySet(), dataDir.resolve("logs")); }

  private final HealthRounds health;

  /** The account apps run as when their command names none ({@code apps.user}, {@code apps.group}); null: the agent's. */
  public void defaultAccount(String user, String group) { steps.accounts.setDefault(user, group); }

  /** Where this server's OCF resource agents are ({@code apps.ocfRoot}; default /usr/lib/ocf). */
  public void ocfRoot(Path root) { steps.agents = new ResourceAgents(root); }

  /** Resource agents from elsewhere (tests: an init.d, a systemctl of their own). */
  void agents(ResourceAgents agents) { steps.agents = agents; }
  /** How this server runs resource agents, and which apps they refused here. */
  public ResourceAgents agents() { return steps.agents; }

  private void fail(Proc proc, String why) {
    log.error("cannot start {}: {}", proc.app.tag(), why);
    release.thenFinish(proc, () -> {
      listener.startFailed(proc.app.tag(), proc.app.epoch(), why);
      listener.exited(proc.app.tag(), proc.app.epoch(), true, -1);
      listener.changed();
    });
  }

  /** The program (its group's leader) exited. A crash (no stop requested): make sure nothing of the group is left. */
  private void onExit(Proc proc) {
    // this life left its apps to the next (a restart): an exit now is the next life's to find, not this one's to clean up
    if (handedOn) return;
    synchronized (proc) { // one of this exit and a stop request handles the end: doStop verifies and reports
      if (proc.stopRequested) return;
      proc.stopRequested = true;
    }
    int code = proc.process.exitValue();
    // A fence kill (the lease ran out: SERVER_FENCED says so) is not the app's crash. Counted as a crash it raised
    // APP_CRASHED, and three such lease losses in a restart window moved the app away as a crash loop.
    boolean fenced = killedBySignal(code) && fence.firedSince(proc.createdNanos, ticker.nanos());
    stopper.killAndVerifyGone(proc);
    if (fenced) reportFenceKill(proc);
    else log.warn("{} exited on its own (code {})", proc.app.tag(), code);
    if (!fenced && proc.startedMarker != null && proc.phase == Instance.Phase.STARTING && steps.agents.startRefused(proc.app, code)) {
      proc.agentToStop = false; // it refused to start: there is nothing of it to stop
      listener.startFailed(proc.app.tag(), proc.app.epoch(), steps.agents.unmet(proc.app).get(0));
    }
    release.thenFinish(proc, () -> {
      listener.exited(proc.app.tag(), proc.app.epoch(), !fenced, code);
      listener.changed();
    });
  }

  /** The fence kills with SIGKILL (137); an exit with the program's own code is a crash. An adopted one's is unknown. */
  static boolean killedBySignal(int code) { return code == 128 + 9 || code == AdoptedProcess.UNKNOWN_EXIT; }

  private void reportFenceKill(Proc proc) {
    synchronized (proc) {
      if (proc.fenceKillReported) return;
      proc.fenceKillReported = true;
    }
    log.warn("{} was killed at the fence's deadline (the lease ran out, or the fence died), not crashed", proc.app.tag());
    fenceKills.accept(proc.app.tag(), proc.app.epoch());
  }

  /** Forget the process only once its whole group is verified gone: until then the app still counts as here. */
  private void finish(Proc proc) {
    procs.remove(proc.app.tag(), proc);
    adopter.forget(proc.app.tag());
    try {
      Files.deleteIfExists(dataDir.resolve("run").resolve(proc.app.tag() + ".pid"));
    } catch (IOException ignored) {
      // harmless: the next start overwrites it
    }
  }

  /** Stops the app: stop command or SIGTERM to its group, SIGKILL after the stop timeout, then verifies it is gone. */
  public void stop(String tag, String reason) {
    Proc p = procs.get(tag);
    if (p == null) return;
    synchronized (p) { // atomic with launch()'s check-then-spawn: either it sees the request, or we see its process
      if (p.stopRequested) return;
      p.stopRequested = true;
      p.phase = Instance.Phase.STOPPING;
      p.sinceNanos = ticker.nanos();
      log.info("stopping {} (epoch {}): {}", tag, p.app.epoch(), reason);
      if (p.process == null) return; // still acquiring resources: launch() sees stopRequested, releases and reports
    }
    // An agent that wakes from a freeze past its lease asks its apps to stop before it hears of their exits: one already
    // dead past the fence's deadline was the fence's kill (status and the fence-kill count say so), not this stop's.
    if (!p.process.isAlive() && killedBySignal(p.process.exitValue()) && fence.firedSince(p.createdNanos, ticker.nanos())) reportFenceKill(p);
    workers.execute(() -> doStop(p));
    listener.changed();
  }

  private void doStop(Proc p) {
    long t0 = System.nanoTime();
    stopper.stopAndVerify(p);
    if (p.process != null && killedBySignal(p.process.exitValue()) && fence.firedSince(p.createdNanos, ticker.nanos())) reportFenceKill(p);
    // a promotion still acquiring sees the stop after its current step: release only once it has given up
    for (int i = 0; p.promoting && i < 600; i++) ProcessStop.sleep(50);
    log.info("stopped {} (epoch {}) in {} ms", p.app.tag(), p.app.epoch(), (System.nanoTime() - t0) / 1_000_000);
    release.thenFinish(p, () -> {
      listener.exited(p.app.tag(), p.app.epoch(), false, 0);
      listener.changed();
    });
  }

  private void refreshFence() {
    // a lease not renewed does not move the deadline: the fence kills every group when it passes
    if (!procs.isEmpty()) fence.deadline(runUntil.getAsLong());
  }

  /**
   * The fence died under its apps (someone killed it: it exits by itself only when this agent closes it). A fresh
   * fence guards new starts; the apps are killed, not guarded anew: they ran unguarded for a moment, while this agent
   * could have been frozen. They restart as after a crash.
   */
  private void fenceDied() {
    try {
      fence.start();
    } catch (IOException e) {
      log.error("cannot restart the fence: {}", e.toString());
    }
    for (Proc p : procs.values()) {
      if (p.process != null) {
        log.error("killing {} (process group {}): its fence died", p.app.tag(), p.pgid);
        ProcessGroups.killGroup(p.pgid, "KILL");
        p.cgroups().forEach(AppCgroups::kill);
      }
    }
  }

  /**
   * Every 50 ms: a starting app becomes RUNNING once its service port answers (if it has one) and its health check
   * passed once (if it has one); a running app with a health check is probed every interval, off this thread, and
   * {@code failures} consecutive failures kill it, which the agent sees as a crash.
   */
  private void checkHealth() {
    if (procs.isEmpty()) {
      synchronized (timer) {
        // a start puts its app in procs before it asks for ticks, so one cannot slip between this check and the cancel
        if (procs.isEmpty() && healthTicks != null) {
          healthTicks.cancel(false);
          healthTicks = null;
        }
      }
      return;
    }
    health.round(procs.values());
  }

  /** Stops everything and waits, up to 15 s (agent shutdown). */
  public void stopAll(String reason) {
    for (String tag : List.copyOf(procs.keySet())) stop(tag, reason);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!procs.isEmpty() && System.nanoTime() < deadline) ProcessStop.sleep(20);
  }

  /** Last lines of an app's log here. */
  public List<String> logTail(String tag, int lines) { return LogTail.ofApp(dataDir.resolve("logs"), tag, lines); }

  @Override
  public void close() {
    refresher.shutdownNow();
    timer.shutdownNow();
    launchers.shutdownNow();
    workers.shutdownNow();
    fence.close();
    if (cgroups != null) cgroups.removeEmpty();
  }
}
