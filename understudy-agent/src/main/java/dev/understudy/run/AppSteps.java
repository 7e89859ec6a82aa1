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

  /** Runs a resource's start then check; null when acquired, else why not. */
  String acquire(App app, ManagedResource r, Path log) {
    String started = runStep(app, r.start(), r.timeout(), log);
    if (started != null) return "start " + started;
    if (r.check() != null && !r.check().isEmpty()) {
      String checked = runStep(app, r.check(), r.timeout(), log);
      if (checked != null) return "check " + checked;
    }
    return null;
  }

  /** Which account each app runs as on this server. */
  final AppAccounts accounts = new AppAccounts();

  /**
   * Runs one managed resource's command as the agent (mounting, adding an address need its privileges) with the app's
   * environment; null on exit 0, else what went wrong.
   */
  String runStep(App app, List<String> argv, long timeoutMs, Path log) {
    if (argv == null || argv.isEmpty()) return null;
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.environment().putAll(environment(app));
    return run(pb, argv, timeoutMs, log);
  }

  /**
   * Runs one of the app's own commands (its health check, its stop command) as the app runs: its account, its clean
   * environment, its working directory. What the app's definition says runs with no more of the agent's than the app.
   */
  String runAsApp(App app, List<String> argv, long timeoutMs, Path log) {
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
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Path wd = workDir(app);
    if (Files.isDirectory(wd)) pb.directory(wd.toFile());
    pb.environment().clear();
    pb.environment().putAll(RunAs.cleanEnvironment(who, wd, environment(app)));
    return run(pb, argv, timeoutMs, log);
  }

  Path workDir(App app) {
    return app.command().workDir() != null ? Path.of(app.command().workDir()) : dataDir.resolve("apps").resolve(app.tag());
  }

  private static String run(ProcessBuilder pb, List<String> argv, long timeoutMs, Path log) {
    try {
      pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
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
    return runAsApp(app, h.command(), h.timeout(), dataDir.resolve("logs").resolve(app.tag() + ".log")) == null;
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
    for (ManagedResource r : managedOf(app)) {
      if (proc.stopRequested) return "stop requested";
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
    List<ManagedResource> m = AppSteps.managedOf(proc.app);
    List<Integer> held = new ArrayList<>(proc.stuck);
    for (int i = proc.acquired - 1; i >= 0; i--) held.add(i);
    held.sort(java.util.Comparator.reverseOrder());
    proc.acquired = 0;
    proc.stuck.clear();
    for (int i : held) {
      ManagedResource r = m.get(i);
      if (r.stop() == null || r.stop().isEmpty()) continue;
      String err = runStep(proc.app, r.stop(), r.timeout(), logFile);
      if (err != null) {
        LoggerFactory.getLogger(AppSteps.class).error("releasing {} of {} failed: {}", r.name(), proc.app.tag(), err);
        proc.stuck.add(i);
      }
    }
    return proc.stuck.isEmpty();
  }
}
