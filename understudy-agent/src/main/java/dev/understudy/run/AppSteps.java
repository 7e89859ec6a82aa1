package dev.understudy.run;

import dev.understudy.model.App;
import dev.understudy.model.ManagedResource;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * The commands around an app's process: its environment, its managed resources' start, check and stop steps, and its
 * health probes (a port, an HTTP URL, a command). Each step is bounded by its timeout and logs to the app's log.
 */
final class AppSteps {
  static final long MAX_LOG_BYTES = 10L << 20;

  private final String self;
  private final String address;
  private final String agentUrl;
  private final Path dataDir;

  /** How this server runs resource agents (its OCF root; which of them refused an app here). */
  volatile ResourceAgents agents = new ResourceAgents(null);

  AppSteps(String self, String address, String agentUrl, Path dataDir) {
    this.self = self;
    this.address = address;
    this.agentUrl = agentUrl;
    this.dataDir = dataDir;
  }

  /** The cluster CA's PEM text, for apps to trust an HTTPS agent API; null when the API is plain HTTP. */
  private volatile java.util.function.Supplier<String> clusterCa = () -> null;

  void clusterCa(java.util.function.Supplier<String> pem) { this.clusterCa = pem; }

  Map<String, String> environment(App app) {
    Map<String, String> env = new HashMap<>();
    if (app.command().env() != null) env.putAll(app.command().env());
    env.put("UNDERSTUDY_TAG", app.tag());
    env.put("UNDERSTUDY_SERVER", self);
    env.put("UNDERSTUDY_ADDRESS", address);
    env.put("UNDERSTUDY_EPOCH", String.valueOf(app.epoch()));
    env.put("UNDERSTUDY_AGENT_URL", agentUrl);
    String ca = clusterCa.get();
    if (ca != null) env.put("UNDERSTUDY_CA", ca); // its text: the app may not read the agent's files
    if (app.service() != null) env.put("UNDERSTUDY_PORT", String.valueOf(app.service().appPort()));
    return env;
  }

  /** The app's managed resources, then its virtual IP (acquired last, released first: the address goes with the app). */
  static List<ManagedResource> managedOf(App app) {
    List<ManagedResource> all = new ArrayList<>(app.managed());
    if (app.service() != null && app.service().virtualIpResource() != null) all.add(app.service().virtualIpResource());
    return all;
  }

  /**
   * Everything released after the app's process is gone, in acquisition order: its managed resources, then (an agent
   * app) its own agent, whose stop is run once more to prove it stopped (see {@link ResourceAgents}).
   */
  static List<ManagedResource> releasable(App app) {
    List<ManagedResource> all = managedOf(app);
    ResourceAgents.of(app).ifPresent(s -> all.add(ManagedResource.ofAgent(OWN_AGENT, app.command().argv(), app.command().stopTimeout())));
    return all;
  }

  /** The name of the app's own agent among what is released. */
  static final String OWN_AGENT = "(its agent)";

  /** Runs a resource's start then check (an agent's start then monitor); null when acquired, else why not. */
  String acquire(App app, ManagedResource r, Path log) {
    String started = runStep(app, r, "start", log);
    if (started != null) return "start " + started;
    String checked = runStep(app, r, "monitor", log);
    if (checked != null) return "check " + checked;
    return null;
  }

  /** One action of a managed resource (start, monitor as its check, stop): its command, or its agent's action. */
  private String runStep(App app, ManagedResource r, String action, Path log) {
    if (!r.byAgent()) {
      List<String> argv = switch (action) {
        case "start" -> r.start();
        case "monitor" -> r.check();
        default -> r.stop();
      };
      return runStep(app, argv, r.timeout(), log);
    }
    var spec = dev.understudy.model.AgentSpec.of(r.agent()).orElseThrow();
    String instance = OWN_AGENT.equals(r.name()) ? app.tag() : app.tag() + "-" + r.name();
    ResourceAgents.Action a = agents.action(spec, instance, action, r.timeout(), 0);
    ProcessBuilder pb = new ProcessBuilder(ownGroup(a.argv()));
    pb.environment().putAll(environment(app));
    pb.environment().putAll(a.env());
    return run(pb, a.argv(), r.timeout(), log);
  }

  /** Which account each app runs as on this server. */
  final AppAccounts accounts = new AppAccounts();

  /**
   * Runs one managed resource's command as the agent (mounting, adding an address need its privileges) with the app's
   * environment; null on exit 0, else what went wrong.
   */
  String runStep(App app, List<String> argv, long timeoutMs, Path log) {
    if (argv == null || argv.isEmpty()) return null;
    ProcessBuilder pb = new ProcessBuilder(ownGroup(argv));
    pb.environment().putAll(environment(app));
    return run(pb, argv, timeoutMs, log);
  }

  /**
   * Runs one of the app's own commands (its health check, its stop command) as the app runs: its account, its clean
   * environment, its working directory. What the app's definition says runs with no more of the agent's than the app.
   */
  String runAsApp(App app, List<String> argv, long timeoutMs, Path log) { return runAsApp(app, argv, Map.of(), timeoutMs, log); }

  /** As {@link #runAsApp(App, List, long, Path)}, with {@code extraEnv} added to the app's environment. */
  String runAsApp(App app, List<String> argv, Map<String, String> extraEnv, long timeoutMs, Path log) {
    if (argv == null || argv.isEmpty()) return null;
    RunAs who;
    try {
      who = accounts.of(app);
    } catch (IOException e) {
      return String.join(" ", argv) + ": " + e.getMessage();
    }
    List<String> cmd = new ArrayList<>();
    if (who != null) cmd.addAll(who.prefix());
    cmd.addAll(argv);
    cmd = ownGroup(cmd);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Path wd = workDir(app);
    if (Files.isDirectory(wd)) pb.directory(wd.toFile());
    pb.environment().clear();
    Map<String, String> env = environment(app);
    env.putAll(extraEnv);
    pb.environment().putAll(RunAs.cleanEnvironment(who, wd, env));
    return run(pb, argv, timeoutMs, log);
  }

  Path workDir(App app) {
    return app.command().workDir() != null ? Path.of(app.command().workDir()) : dataDir.resolve("apps").resolve(app.tag());
  }

  private static final String SETSID = ProcessGroups.onPath("setsid");

  /**
   * {@code argv} in a process group of its own: in the agent's, a stop command's {@code kill 0} (a common idiom)
   * signalled the agent itself, and a step that timed out could leave its children behind.
   */
  static List<String> ownGroup(List<String> argv) {
    List<String> cmd = new ArrayList<>(argv.size() + 1);
    cmd.add(SETSID);
    cmd.addAll(argv);
    return cmd;
  }

  private static String run(ProcessBuilder pb, List<String> argv, long timeoutMs, Path log) {
    try {
      pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      Process p = pb.start();
      if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
        ProcessGroups.killGroup(p.pid(), "KILL"); // the step and whatever it started
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

  static void rotate(Path log) throws IOException {
    if (Files.exists(log) && Files.size(log) > MAX_LOG_BYTES) {
      Files.move(log, log.resolveSibling(log.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Rotates the logs of the running apps {@code tags} that are over the limit (a failure is logged, not thrown). */
  static void rotateWhileRunning(java.util.Collection<String> tags, Path logs) {
    for (String tag : tags) {
      Path file = logs.resolve(tag + ".log");
      try {
        rotateWhileRunning(file, MAX_LOG_BYTES);
      } catch (IOException e) {
        org.slf4j.LoggerFactory.getLogger(AppSteps.class).warn("cannot rotate {}: {}", file, e.getMessage());
      }
    }
  }

  /**
   * Rotates the log of a running app: copied to {@code .1}, then truncated in place. The app's output was opened for
   * appending, so its next write lands at the new end, not at its old offset (no hole of zeros). Lines written between
   * the copy and the truncation are lost: the price of not restarting an app to rotate its log.
   */
  static boolean rotateWhileRunning(Path log, long maxBytes) throws IOException {
    if (!Files.exists(log) || Files.size(log) <= maxBytes) return false;
    Files.copy(log, log.resolveSibling(log.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
    try (var ch = java.nio.channels.FileChannel.open(log, java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(0);
    }
    return true;
  }

  boolean probe(App app, dev.understudy.model.HealthCheck h) {
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
    Path log = dataDir.resolve("logs").resolve(app.tag() + ".log");
    if (ResourceAgents.isMonitor(h)) return monitor(app, h, log);
    return runAsApp(app, h.command(), h.timeout(), log) == null;
  }

  /** An agent app's health: its agent's monitor (status) action, as the app runs, with the OCF environment. */
  private boolean monitor(App app, dev.understudy.model.HealthCheck h, Path log) {
    var spec = ResourceAgents.of(app).orElse(null);
    if (spec == null) return false;
    ResourceAgents.Action a = agents.action(spec, app.tag(), "monitor", h.timeout(), h.interval());
    Map<String, String> env = new HashMap<>(a.env());
    env.putAll(app.command().env() == null ? Map.of() : app.command().env());
    return runAsApp(app, a.argv(), env, h.timeout(), log) == null;
  }

  static boolean tcpOpen(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Acquires the app's managed resources in order, counting them in {@code proc.acquired} (released in reverse); null
   * when all are held, else why not. Stops early when a stop is requested.
   */
  String acquireAll(Proc proc, App app, Path log) {
    List<ManagedResource> all = managedOf(app);
    for (int i = 0; i < all.size(); i++) {
      ManagedResource r = all.get(i);
      if (proc.stopRequested) return "stop requested";
      String armed = armRelease(app, all.subList(0, i + 1));
      if (armed != null) return "managed resource " + r.name() + " was not acquired: " + armed;
      String failure = acquire(app, r, log);
      if (failure != null) return "managed resource " + r.name() + " could not be acquired: " + failure;
      proc.acquired++;
    }
    return null;
  }

  /**
   * Releases the app's managed resources in reverse order; true when none is left held. One whose release fails is
   * kept in {@code stuck} and the others are still released.
   */
  boolean releaseAll(Proc proc, Path logFile) {
    List<ManagedResource> m = AppSteps.releasable(proc.app);
    List<Integer> held = new ArrayList<>(proc.stuck);
    for (int i = proc.acquired - 1; i >= 0; i--) held.add(i);
    int managed = managedOf(proc.app).size();
    if (releases != null && held.stream().anyMatch(i -> i < managed)
        && releases.claim(proc.app.tag(), longestRelease(proc.app)) == FenceReleases.Claim.RELEASED_BY_FENCE) {
      held.removeIf(i -> i < managed);
    }
    // an agent app's own agent ran if its driver was spawned: its stop is confirmed before anything else is released
    if (proc.agentToStop && m.size() > managedOf(proc.app).size() && !held.contains(m.size() - 1)) held.add(m.size() - 1);
    proc.agentToStop = false;
    held.sort(java.util.Comparator.reverseOrder());
    proc.acquired = 0;
    proc.stuck.clear();
    for (int i : held) {
      ManagedResource r = m.get(i);
      if (!r.byAgent() && (r.stop() == null || r.stop().isEmpty())) continue;
      String err = runStep(proc.app, r, "stop", logFile);
      if (err != null) {
        LoggerFactory.getLogger(AppSteps.class).error("releasing {} of {} failed: {}", r.name(), proc.app.tag(), err);
        proc.stuck.add(i);
      }
    }
    if (proc.stuck.isEmpty() && releases != null && managed > 0) releases.done(proc.app.tag());
    return proc.stuck.isEmpty();
  }

  /** Where the fence runs releases itself (null: nowhere, as in tests of the steps alone). */
  volatile FenceReleases releases;

  /** Registers the release of {@code held} with the fence; null when registered, else why not. */
  private String armRelease(App app, List<ManagedResource> held) {
    if (releases == null) return null;
    List<FenceReleases.Step> steps = new ArrayList<>();
    for (int i = held.size() - 1; i >= 0; i--) {
      ManagedResource r = held.get(i);
      if (r.byAgent()) {
        var spec = dev.understudy.model.AgentSpec.of(r.agent()).orElseThrow();
        ResourceAgents.Action a = agents.action(spec, app.tag() + "-" + r.name(), "stop", r.timeout(), 0);
        Map<String, String> env = new HashMap<>(environment(app));
        env.putAll(a.env());
        steps.add(new FenceReleases.Step(a.argv(), env, r.timeout()));
      } else if (r.stop() != null && !r.stop().isEmpty()) {
        steps.add(new FenceReleases.Step(r.stop(), environment(app), r.timeout()));
      }
    }
    try {
      releases.arm(app.tag(), steps);
      return null;
    } catch (IOException e) {
      return "cannot register its release with the fence: " + e.getMessage();
    }
  }

  private static long longestRelease(App app) {
    long total = 0;
    for (ManagedResource r : managedOf(app)) total += r.timeout();
    return total;
  }
}
