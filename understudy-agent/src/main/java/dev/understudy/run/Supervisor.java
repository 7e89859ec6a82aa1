package dev.understudy.run;

import dev.understudy.decide.Instance;
import dev.understudy.detect.Ticker;
import dev.understudy.model.App;
import dev.understudy.model.ManagedResource;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
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
 * Starts and stops apps as real OS processes (load/unload), each under a guard that kills its process group when
 * this agent stops refreshing it: a paused or dead agent cannot leave an app running past its lease.
 */
public final class Supervisor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Supervisor.class);
  private static final long MAX_LOG_BYTES = 10L << 20;

  /** One running process. */
  private static final class Proc {
    volatile App app; // replaced when a warm standby is promoted
    volatile boolean standby;
    volatile BooleanSupplier stillDecided = () -> true;
    final Path exitFile;
    volatile Process process; // null while its managed resources are being acquired
    volatile long pgid;
    volatile Instance.Phase phase = Instance.Phase.STARTING;
    volatile long sinceNanos;
    volatile boolean stopRequested;
    volatile int acquired; // managed resources acquired so far, released in reverse
    volatile long nextCheck;
    volatile int failedChecks;
    volatile boolean checking;
    final String token = java.util.UUID.randomUUID().toString(); // the instance's credential for the client API
    final java.util.concurrent.CompletableFuture<Void> unloadRequested = new java.util.concurrent.CompletableFuture<>();

    Proc(App app, Path exitFile, long now) {
      this.app = app;
      this.exitFile = exitFile;
      this.sinceNanos = now;
    }
  }

  /** What the supervisor tells the agent. */
  public interface Listener {
    void exited(String tag, long epoch, boolean crashed, int exitCode);

    /** The app could not be started here (a managed resource failed, the program is missing...). */
    default void startFailed(String tag, long epoch, String why) {}

    /** The app failed its health check too many times in a row and is being killed (a crash follows). */
    default void unhealthy(String tag, long epoch, String why) {}

    void changed();
  }

  private final String self;
  private final String address;
  private final String agentUrl;
  private final Path dataDir;
  private final Path guardScript;
  private final Duration guardTimeout;
  private final Ticker ticker;
  private final BooleanSupplier mayRun;
  private final Listener listener;
  private final Map<String, Proc> procs = new ConcurrentHashMap<>();
  private final ExecutorService workers = Executors.newCachedThreadPool(r -> daemon(r, "supervisor"));
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "guard-refresh"));

  public Supervisor(String self, String address, String agentUrl, Path dataDir, Duration guardTimeout, Ticker ticker,
                    BooleanSupplier mayRun, Listener listener) throws IOException {
    this.self = self;
    this.address = address;
    this.agentUrl = agentUrl;
    this.dataDir = dataDir;
    this.guardTimeout = guardTimeout;
    this.ticker = ticker;
    this.mayRun = mayRun;
    this.listener = listener;
    Files.createDirectories(dataDir.resolve("run"));
    Files.createDirectories(dataDir.resolve("logs"));
    this.guardScript = dataDir.resolve("run/guard.sh");
    try (InputStream in = Supervisor.class.getResourceAsStream("guard.sh")) {
      Files.copy(in, guardScript, StandardCopyOption.REPLACE_EXISTING);
    }
    killLeftovers();
    long period = Math.max(20, guardTimeout.toMillis() / 4);
    timer.scheduleAtFixedRate(this::refreshGuards, period, period, TimeUnit.MILLISECONDS);
    timer.scheduleAtFixedRate(this::checkHealth, 50, 50, TimeUnit.MILLISECONDS);
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Processes this agent started in an earlier life: their guards should have killed them; make sure. */
  private void killLeftovers() throws IOException {
    try (var files = Files.list(dataDir.resolve("run"))) {
      for (Path pidFile : files.filter(p -> p.toString().endsWith(".pid")).toList()) {
        String[] parts = Files.readString(pidFile).trim().split(" ");
        long pid = Long.parseLong(parts[0]);
        String start = parts.length > 1 ? parts[1] : "";
        if (ProcessGroups.startTime(pid).map(start::equals).orElse(false) || ProcessGroups.alive(pid)) {
          log.warn("killing process group {} left over from an earlier run ({})", pid, pidFile.getFileName());
        }
        ProcessGroups.killGroup(pid, "KILL");
        Files.deleteIfExists(pidFile);
      }
    }
  }

  public Map<String, Instance> instances() {
    Map<String, Instance> out = new HashMap<>();
    procs.forEach((tag, p) -> out.put(tag, new Instance(tag, p.app.epoch(), p.phase, p.sinceNanos, p.standby)));
    return out;
  }

  public boolean idle() { return procs.isEmpty(); }

  /** This server became the host: its warm standby instance of the app is now the host's, at the app's epoch. */
  public void promote(App app) {
    Proc p = procs.get(app.tag());
    if (p == null) return;
    synchronized (p) {
      if (!p.standby || p.stopRequested) return;
      p.app = app;
      p.standby = false;
    }
    log.info("promoted the warm standby of {} to host at epoch {}", app.tag(), app.epoch());
    listener.changed();
  }

  /** Whether {@code token} is the credential of this server's current instance of {@code tag}. */
  public boolean tokenValid(String tag, String token) {
    Proc p = procs.get(tag);
    return p != null && token != null && java.security.MessageDigest.isEqual(p.token.getBytes(StandardCharsets.UTF_8),
        token.getBytes(StandardCharsets.UTF_8));
  }

  /** Completes when the agent asks this server's instance of {@code tag} to unload (empty if none runs). */
  public java.util.Optional<java.util.concurrent.CompletableFuture<Void>> unloadRequest(String tag) {
    return java.util.Optional.ofNullable(procs.get(tag)).map(p -> p.unloadRequested);
  }

  /**
   * Starts the app at its epoch: acquires its managed resources in order, then launches it under its guard, on a
   * worker thread (a mount may take seconds). Idempotent: a second call while it starts or runs does nothing.
   */
  public synchronized void start(App app) { start(app, false, () -> true); }

  /**
   * {@code standby}: an aware app pre-started paused on a server that is not its host (it waits in awaitHost).
   * {@code stillDecided}: checked again just before the process is spawned (resources may take seconds, the agent may
   * be paused meanwhile): false when what the start was decided on no longer holds, and then nothing is spawned.
   */
  public synchronized void start(App app, boolean standby, BooleanSupplier stillDecided) {
    if (procs.containsKey(app.tag())) return;
    if (!mayRun.getAsBoolean()) return;
    Proc proc = new Proc(app, dataDir.resolve("run").resolve(app.tag() + ".exit"), ticker.nanos());
    proc.standby = standby;
    proc.stillDecided = stillDecided;
    procs.put(app.tag(), proc);
    listener.changed();
    workers.execute(() -> launch(proc));
  }

  private void launch(Proc proc) {
    App app = proc.app;
    try {
      Path logs = dataDir.resolve("logs");
      Path out = logs.resolve(app.tag() + ".log");
      rotate(out);
      for (ManagedResource r : managedOf(app)) {
        if (proc.stopRequested) break;
        String failure = acquire(app, r, out);
        if (failure != null) {
          fail(proc, "managed resource " + r.name() + " could not be acquired: " + failure);
          return;
        }
        proc.acquired++;
      }
      // Per instance, not the whole supervisor: spawning takes milliseconds (tens under load), and a mass failover
      // launching hundreds of apps would otherwise hold up the decision loop's every start() and stop() behind it.
      // What must be atomic is this instance's "not asked to stop" check with its spawn (see stop()).
      synchronized (proc) {
        if (proc.stopRequested || !mayRun.getAsBoolean() || !proc.stillDecided.getAsBoolean()) {
          releaseAll(proc, out);
          finish(proc);
          listener.exited(app.tag(), app.epoch(), false, 0);
          listener.changed();
          return;
        }
        Files.deleteIfExists(proc.exitFile);
        List<String> cmd = new ArrayList<>(List.of("setsid", "bash", guardScript.toString(),
            String.format(java.util.Locale.ROOT, "%.3f", guardTimeout.toMillis() / 1000.0), proc.exitFile.toString(), "--"));
        cmd.addAll(app.command().argv());
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Path wd = app.command().workDir() != null ? Path.of(app.command().workDir()) : dataDir.resolve("apps").resolve(app.tag());
        Files.createDirectories(wd);
        pb.directory(wd.toFile());
        pb.environment().putAll(environment(app));
        pb.environment().put("UNDERSTUDY_APP_TOKEN", proc.token);
        if (proc.standby) pb.environment().put("UNDERSTUDY_STANDBY", "1");
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()));
        Process p = pb.start();
        proc.pgid = p.pid();
        proc.process = p;
        Files.writeString(dataDir.resolve("run").resolve(app.tag() + ".pid"),
            p.pid() + " " + ProcessGroups.startTime(p.pid()).orElse(""));
        writeLine(proc, "");
        log.info("started {} (epoch {}{}) as process group {}", app.tag(), app.epoch(), proc.standby ? ", warm standby" : "", p.pid());
        p.onExit().thenRun(() -> onExit(proc));
      }
      listener.changed();
    } catch (IOException | RuntimeException e) {
      fail(proc, e.getMessage());
    }
  }

  private Map<String, String> environment(App app) {
    Map<String, String> env = new HashMap<>();
    if (app.command().env() != null) env.putAll(app.command().env());
    env.put("UNDERSTUDY_TAG", app.tag());
    env.put("UNDERSTUDY_SERVER", self);
    env.put("UNDERSTUDY_ADDRESS", address);
    env.put("UNDERSTUDY_EPOCH", String.valueOf(app.epoch()));
    env.put("UNDERSTUDY_AGENT_URL", agentUrl);
    if (app.service() != null) env.put("UNDERSTUDY_PORT", String.valueOf(app.service().appPort()));
    return env;
  }

  private void fail(Proc proc, String why) {
    log.error("cannot start {}: {}", proc.app.tag(), why);
    releaseAll(proc, dataDir.resolve("logs").resolve(proc.app.tag() + ".log"));
    finish(proc);
    listener.startFailed(proc.app.tag(), proc.app.epoch(), why);
    listener.exited(proc.app.tag(), proc.app.epoch(), true, -1);
    listener.changed();
  }

  /** The app's managed resources, then its virtual IP (acquired last, released first: the address goes with the app). */
  static List<ManagedResource> managedOf(App app) {
    List<ManagedResource> all = new ArrayList<>(app.managed());
    if (app.service() != null && app.service().virtualIpResource() != null) all.add(app.service().virtualIpResource());
    return all;
  }

  /** Runs a resource's start then check; null when acquired, else why not. */
  private String acquire(App app, ManagedResource r, Path log) {
    String started = runStep(app, r.start(), r.timeout(), log);
    if (started != null) return "start " + started;
    if (r.check() != null && !r.check().isEmpty()) {
      String checked = runStep(app, r.check(), r.timeout(), log);
      if (checked != null) return "check " + checked;
    }
    return null;
  }

  private void releaseAll(Proc proc, Path logFile) {
    List<ManagedResource> m = managedOf(proc.app);
    for (int i = proc.acquired - 1; i >= 0; i--) {
      ManagedResource r = m.get(i);
      if (r.stop() == null || r.stop().isEmpty()) continue;
      String err = runStep(proc.app, r.stop(), r.timeout(), logFile);
      if (err != null) log.error("releasing {} of {} failed: {}", r.name(), proc.app.tag(), err);
    }
    proc.acquired = 0;
  }

  /** Runs one resource command with the app's environment; null on exit 0, else what went wrong. */
  private String runStep(App app, List<String> argv, long timeoutMs, Path log) {
    if (argv == null || argv.isEmpty()) return null;
    try {
      ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().putAll(environment(app));
      Process p = pb.start();
      if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        return String.join(" ", argv) + " timed out after " + timeoutMs + " ms";
      }
      return p.exitValue() == 0 ? null : String.join(" ", argv) + " exited with " + p.exitValue();
    } catch (IOException e) {
      return String.join(" ", argv) + ": " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static void rotate(Path log) throws IOException {
    if (Files.exists(log) && Files.size(log) > MAX_LOG_BYTES) {
      Files.move(log, log.resolveSibling(log.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** The guard exited. A crash (no stop requested): make sure nothing of the group is left, then report it. */
  private void onExit(Proc proc) {
    if (proc.stopRequested) return; // doStop verifies and reports
    ProcessGroups.killGroup(proc.pgid, "KILL");
    awaitGroupGone(proc.pgid);
    int code = readExit(proc);
    releaseAll(proc, dataDir.resolve("logs").resolve(proc.app.tag() + ".log"));
    finish(proc);
    log.warn("{} exited on its own (code {})", proc.app.tag(), code);
    listener.exited(proc.app.tag(), proc.app.epoch(), true, code);
    listener.changed();
  }

  /** Forget the process only once its whole group is verified gone: until then the app still counts as here. */
  private void finish(Proc proc) {
    procs.remove(proc.app.tag(), proc);
    try {
      Files.deleteIfExists(dataDir.resolve("run").resolve(proc.app.tag() + ".pid"));
    } catch (IOException ignored) {
      // harmless: the next start overwrites it
    }
  }

  private static void awaitGroupGone(long pgid) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (ProcessGroups.anyInGroup(pgid) && System.nanoTime() < deadline) {
      ProcessGroups.killGroup(pgid, "KILL");
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    if (ProcessGroups.anyInGroup(pgid)) log.error("process group {} survives SIGKILL (uninterruptible I/O?)", pgid);
  }

  private static int readExit(Proc proc) {
    try {
      return Integer.parseInt(Files.readString(proc.exitFile).trim());
    } catch (IOException | NumberFormatException e) {
      return proc.process.exitValue();
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
    workers.execute(() -> doStop(p));
    listener.changed();
  }

  private void doStop(Proc p) {
    long t0 = System.nanoTime();
    long timeoutMs = p.app.command().stopTimeout();
    try {
      List<String> stopCmd = p.app.command().stopCommand();
      if (p.app.type() == dev.understudy.model.AppType.AWARE) {
        // FIG. 3D, claim 48: ask the aware app to save its marker and unload itself; fall back to stopping it
        p.unloadRequested.complete(null);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (ProcessGroups.anyInGroup(p.pgid) && System.nanoTime() < deadline) Thread.sleep(10);
        if (ProcessGroups.anyInGroup(p.pgid)) log.warn("{} did not unload itself within {} ms; stopping it", p.app.tag(), timeoutMs);
        else timeoutMs = 0;
      }
      if (timeoutMs == 0) {
        // unloaded by itself
      } else if (stopCmd != null && !stopCmd.isEmpty()) {
        try {
          new ProcessBuilder(stopCmd).redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve("logs").resolve(p.app.tag() + ".log").toFile()))
              .start().waitFor(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (IOException e) {
          log.warn("stop command of {} failed: {}", p.app.tag(), e.getMessage());
        }
      } else {
        ProcessGroups.killGroup(p.pgid, "TERM");
      }
      // the guard may die at once on TERM; what matters is every process of the group
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
      while (ProcessGroups.anyInGroup(p.pgid) && System.nanoTime() < deadline) Thread.sleep(10);
      if (ProcessGroups.anyInGroup(p.pgid)) log.warn("{} did not stop within {} ms; killing its process group", p.app.tag(), timeoutMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // claims 9, 16: verify the program has been unloaded before anyone else may start it
    ProcessGroups.killGroup(p.pgid, "KILL");
    awaitGroupGone(p.pgid);
    releaseAll(p, dataDir.resolve("logs").resolve(p.app.tag() + ".log"));
    log.info("stopped {} (epoch {}) in {} ms", p.app.tag(), p.app.epoch(), (System.nanoTime() - t0) / 1_000_000);
    finish(p);
    listener.exited(p.app.tag(), p.app.epoch(), false, 0);
    listener.changed();
  }

  private void refreshGuards() {
    boolean ok = mayRun.getAsBoolean();
    for (Proc p : procs.values()) {
      if (ok && p.process != null) writeLine(p, "");
      // when not ok we simply stop writing: the guard kills the group after its timeout
    }
  }

  private static void writeLine(Proc p, String line) {
    try {
      OutputStream os = p.process.getOutputStream();
      os.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      os.flush();
    } catch (IOException ignored) {
      // the guard is gone; onExit handles it
    }
  }

  /**
   * Every 50 ms: a starting app becomes RUNNING once its service port answers (if it has one) and its health check
   * passed once (if it has one); a running app with a health check is probed every interval, off this thread, and
   * {@code failures} consecutive failures kill it, which the agent sees as a crash.
   */
  private void checkHealth() {
    long now = ticker.nanos();
    for (Proc p : procs.values()) {
      if (p.process == null || p.stopRequested) continue;
      dev.understudy.model.HealthCheck h = p.app.command().health();
      if (p.phase == Instance.Phase.STARTING && h == null) {
        boolean healthy = p.app.service() == null || tcpOpen(address, p.app.service().appPort());
        if (healthy && p.process.isAlive()) running(p);
        continue;
      }
      if (h == null || p.checking || now < p.nextCheck) continue;
      p.checking = true;
      p.nextCheck = now + TimeUnit.MILLISECONDS.toNanos(p.phase == Instance.Phase.STARTING ? 100 : h.interval());
      workers.execute(() -> {
        try {
          boolean ok = probe(p.app, h);
          if (ok) {
            p.failedChecks = 0;
            if (p.phase == Instance.Phase.STARTING && p.process.isAlive()) running(p);
          } else if (p.phase == Instance.Phase.RUNNING && ++p.failedChecks >= h.failuresAllowed() && !p.stopRequested) {
            log.warn("{} failed {} health checks in a row; killing it (counts as a crash)", p.app.tag(), p.failedChecks);
            listener.unhealthy(p.app.tag(), p.app.epoch(), "failed " + p.failedChecks + " health checks in a row");
            ProcessGroups.killGroup(p.pgid, "KILL");
          }
        } finally {
          p.checking = false;
        }
      });
    }
  }

  private void running(Proc p) {
    p.phase = Instance.Phase.RUNNING;
    p.sinceNanos = ticker.nanos();
    listener.changed();
  }

  private boolean probe(App app, dev.understudy.model.HealthCheck h) {
    if (h.port() != null) return tcpOpen(address, h.port());
    if (h.http() != null) {
      try {
        var r = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofMillis(h.timeout())).build()
            .send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(h.http())).timeout(Duration.ofMillis(h.timeout())).build(),
                java.net.http.HttpResponse.BodyHandlers.discarding());
        return r.statusCode() < 400;
      } catch (IOException | IllegalArgumentException e) {
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return runStep(app, h.command(), h.timeout(), dataDir.resolve("logs").resolve(app.tag() + ".log")) == null;
  }

  private static boolean tcpOpen(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Stops everything and waits (agent shutdown). */
  public void stopAll(String reason) {
    for (String tag : List.copyOf(procs.keySet())) stop(tag, reason);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!procs.isEmpty() && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Last lines of an app's log here. */
  public List<String> logTail(String tag, int lines) {
    Path f = dataDir.resolve("logs").resolve(tag + ".log");
    try {
      if (!Files.exists(f)) return List.of();
      List<String> all = Files.readAllLines(f, StandardCharsets.UTF_8);
      return all.subList(Math.max(0, all.size() - lines), all.size());
    } catch (IOException | UncheckedIOException e) {
      return List.of("(cannot read log: " + e.getMessage() + ")");
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    workers.shutdownNow();
  }
}
