package dev.understudy.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.cli.CliException;
import dev.understudy.cli.LocalCluster;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Benchmarks on a real 3-agent cluster (processes on 127.0.0.11-13): failover, detection, failback, mass failover,
 * footprint. A client asks through s3's cluster port, as a real client would.
 */
final class ClusterBench {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(200)).build();
  private final LocalCluster lc;
  private final int clusterPort;
  private final String profile;

  private ClusterBench(LocalCluster lc, int clusterPort, String profile) {
    this.lc = lc;
    this.clusterPort = clusterPort;
    this.profile = profile;
  }

  static ClusterBench up(String profile, int basePort) throws Exception {
    Path dir = Files.createTempDirectory("understudy-bench-");
    var timing = Map.<String, Object>of("profile", profile);
    LocalCluster lc = LocalCluster.up(dir, 3, basePort, timing, false, null);
    return new ClusterBench(lc, CasBench.freePort("127.0.0.13"), profile);
  }

  void down() throws Exception { lc.down(); }

  static String get(String url) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMillis(300)).build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private String url() { return "http://127.0.0.13:" + clusterPort + "/"; }

  private long waitUntil(java.util.function.BooleanSupplier ok, long timeoutMs, String what) throws InterruptedException {
    return waitUntil(ok, timeoutMs, what, 5);
  }

  private long waitUntil(java.util.function.BooleanSupplier ok, long timeoutMs, String what, long pollMs)
      throws InterruptedException {
    long t0 = System.nanoTime();
    while (!ok.getAsBoolean()) {
      if ((System.nanoTime() - t0) / 1_000_000 > timeoutMs) throw new CliException(1, "benchmark timed out waiting for " + what);
      Thread.sleep(pollMs);
    }
    return System.nanoTime();
  }

  private String verdict(String via, String of) {
    try {
      for (JsonNode sv : lc.client(via).get("/api/v1/status").path("servers")) {
        if (sv.path("id").asText().equals(of)) return sv.path("verdict").asText();
      }
    } catch (CliException e) {
      return null;
    }
    return null;
  }

  /**
   * kill -9 of the host (agent and app) -> first answer from the new host through another agent's cluster port. With
   * {@code aware}, the app is the aware hello service run as a warm standby (pre-started paused on the next host).
   */
  Map<String, Object> failover(int trials, boolean aware) throws Exception {
    int appPort = CasBench.freePort("127.0.0.11");
    List<String> argv = dev.understudy.cli.HelloService.argv(aware);
    Map<String, Object> app = new LinkedHashMap<>(Map.of("tag", "bench", "command", Map.of("argv", argv),
        "primary", "s1", "backups", List.of("s2", "s3"), "autoFailback", true,
        "service", Map.of("clusterPort", clusterPort, "appPort", appPort)));
    if (aware) {
      app.put("type", "AWARE");
      app.put("attributes", Map.of("understudy.warmStandby", "true"));
    }
    lc.client("s1").post("/api/v1/apps", app);
    Stats failover = new Stats();
    Stats detection = new Stats();
    Stats failback = new Stats();
    Stats failbackGap = new Stats();
    for (int i = 0; i < trials; i++) {
      waitUntil(() -> String.valueOf(get(url())).contains("from s1"), 60_000, "the app on s1");
      Thread.sleep(300);
      AtomicLong downAt2 = new AtomicLong();
      AtomicLong downAt3 = new AtomicLong();
      Thread watcher = new Thread(() -> {
        while (downAt2.get() == 0 || downAt3.get() == 0) {
          if (downAt2.get() == 0 && "DOWN".equals(verdict("s2", "s1"))) downAt2.set(System.nanoTime());
          if (downAt3.get() == 0 && "DOWN".equals(verdict("s3", "s1"))) downAt3.set(System.nanoTime());
          if (Thread.interrupted()) return;
        }
      });
      long killed = System.nanoTime();
      lc.kill("s1");
      watcher.start();
      long back = waitUntil(() -> String.valueOf(get(url())).contains("from s2"), 60_000, "failover");
      failover.add((back - killed) / 1e6);
      watcher.join(10_000);
      watcher.interrupt();
      if (downAt2.get() > 0 && downAt3.get() > 0) detection.add((Math.max(downAt2.get(), downAt3.get()) - killed) / 1e6);
      // failback: restart s1; measure from restart to the app answering on s1, and the longest gap seen by a client
      AtomicReference<Long> lastOk = new AtomicReference<>(System.nanoTime());
      AtomicLong maxGap = new AtomicLong();
      Thread prober = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          String r = get(url());
          long now = System.nanoTime();
          if (r != null) {
            maxGap.accumulateAndGet(now - lastOk.get(), Math::max);
            lastOk.set(now);
            if (r.contains("from s1")) return;
          }
        }
      });
      long restarted = System.nanoTime();
      lc.start("s1");
      prober.start();
      long home = waitUntil(() -> String.valueOf(get(url())).contains("from s1"), 60_000, "failback");
      prober.join(5000);
      failback.add((home - restarted) / 1e6);
      failbackGap.add(maxGap.get() / 1e6);
      System.out.printf("  trial %2d: failover %6.0f ms, detection %6.0f ms, failback %6.0f ms after restart (gap %4.0f ms)%n",
          i + 1, (back - killed) / 1e6, detection.count() > 0 ? detection.values().get(detection.count() - 1) : Double.NaN,
          (home - restarted) / 1e6, maxGap.get() / 1e6);
    }
    lc.client("s1").delete("/api/v1/apps/bench");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("profile", profile);
    m.put("app", aware ? "aware, warm standby" : "capable");
    m.put("failoverMs", failover.summary());
    m.put("detectionMs", detection.summary());
    m.put("failbackAfterRestartMs", failback.summary());
    m.put("failbackGapMs", failbackGap.summary());
    m.put("failoverSamples", failover.values());
    System.out.printf("  failover (kill -9 -> first answer via s3): %s%n", failover.line("ms"));
    System.out.printf("  detection (kill -9 -> DOWN at every peer): %s%n", detection.line("ms"));
    System.out.printf("  failback (restart -> answer from s1, includes agent start and %s hold): %s%n",
        lc.config("s1").timingValues().failbackHold().toMillis() + " ms", failback.line("ms"));
    System.out.printf("  failback gap seen by a client: %s%n", failbackGap.line("ms"));
    return m;
  }

  /** {@code n} light apps on s1; kill -9 s1; time until all run elsewhere. */
  Map<String, Object> mass(int n) throws Exception {
    for (int i = 0; i < n; i++) {
      Map<String, Object> app = Map.of("tag", "m" + i, "command", Map.of("argv", List.of("sleep", "100000")),
          "primary", "s1", "backups", List.of(i % 2 == 0 ? "s2" : "s3", i % 2 == 0 ? "s3" : "s2"));
      for (int attempt = 1; ; attempt++) {
        try {
          lc.client("s2").post("/api/v1/apps", app);
          break;
        } catch (CliException e) {
          // outcome unknown (503) under load: read it back; an app that exists was written
          if (exists("m" + i)) break;
          if (attempt == 5) throw e;
          Thread.sleep(500);
        }
      }
    }
    waitUntil(() -> running("s1") == n, 180_000, n + " apps on s1", 200);
    long killed = System.nanoTime();
    lc.kill("s1");
    // polled every 50 ms, not 5: listing 1,000 apps is work for s2, which is one of the servers taking them over
    long done = waitUntil(() -> running("s2", "s3") == n, 180_000, "all apps elsewhere", 50);
    double ms = (done - killed) / 1e6;
    System.out.printf("  %d apps re-placed after kill -9 of their host in %.0f ms%n", n, ms);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("apps", n);
    m.put("replacedMs", ms);
    Map<String, Object> footprint = footprint("s2", n / 2);
    m.put("footprintWithApps", footprint);
    lc.start("s1");
    return m;
  }

  private boolean exists(String tag) {
    try {
      lc.client("s2").get("/api/v1/apps/" + tag);
      return true;
    } catch (CliException e) {
      return false;
    }
  }

  /** Apps RUNNING on any of {@code on}, from one listing. */
  private int running(String... on) {
    var hosts = java.util.Set.of(on);
    try {
      int c = 0;
      for (JsonNode a : lc.client("s2").get("/api/v1/apps")) {
        if (hosts.contains(a.path("host").asText()) && "RUNNING".equals(a.path("state").asText())) c++;
      }
      return c;
    } catch (CliException e) {
      return -1;
    }
  }

  /**
   * CPU and RSS of every agent of an idle 5-agent cluster (each watching 4 peers, as the target says), default profile,
   * over {@code measureSeconds} after {@code warmSeconds} (start-up compilation, formation). The Raft leader does
   * more than the others (it replicates every entry and writes the round's lease batch), so it is reported apart.
   */
  static Map<String, Object> idleCluster(int basePort, int warmSeconds, int measureSeconds) throws Exception {
    Path dir = Files.createTempDirectory("understudy-idle-");
    LocalCluster lc = LocalCluster.up(dir, 5, basePort, Map.of("profile", "default"), false, null);
    try {
      Thread.sleep(warmSeconds * 1000L);
      Map<String, Long> pids = new LinkedHashMap<>();
      for (String id : lc.ids()) pids.put(id, Long.parseLong(Files.readString(dir.resolve(id).resolve("agent.pid")).trim()));
      Map<String, Long> t0 = new LinkedHashMap<>();
      for (var e : pids.entrySet()) t0.put(e.getKey(), cpuTicks(e.getValue()));
      long w0 = System.nanoTime();
      Thread.sleep(measureSeconds * 1000L);
      double wall = (System.nanoTime() - w0) / 1e9;
      String leader = lc.client("s1").get("/healthz").path("leader").asText();
      List<Double> followers = new ArrayList<>();
      Map<String, Object> m = new LinkedHashMap<>();
      double leaderCpu = -1;
      long rssMax = 0;
      for (var e : pids.entrySet()) {
        double cpu = 100 * (cpuTicks(e.getValue()) - t0.get(e.getKey())) / 100.0 / wall;
        long rss = rssKb(e.getValue()) / 1024;
        rssMax = Math.max(rssMax, rss);
        boolean leads = e.getKey().equals(leader);
        System.out.printf("  agent %s%s: CPU %.2f%% of a core, RSS %d MB%n", e.getKey(), leads ? " (Raft leader)" : "", cpu, rss);
        if (leads) leaderCpu = cpu;
        else followers.add(cpu);
      }
      java.util.Collections.sort(followers);
      m.put("followerCpuMedian", followers.isEmpty() ? -1 : followers.get(followers.size() / 2));
      m.put("followerCpuMax", followers.isEmpty() ? -1 : followers.get(followers.size() - 1));
      m.put("leaderCpu", leaderCpu);
      m.put("rssMaxMB", rssMax);
      return m;
    } finally {
      lc.down();
    }
  }

  /** RSS and CPU of one idle agent over 10 s. */
  Map<String, Object> footprint(String id, int appsHosted) throws Exception {
    long pid = Long.parseLong(Files.readString(lc.dir().resolve(id).resolve("agent.pid")).trim());
    Thread.sleep(10_000); // past the start-up compilation
    long cpu0 = cpuTicks(pid);
    long t0 = System.nanoTime();
    Thread.sleep(10_000);
    double cpuSeconds = (cpuTicks(pid) - cpu0) / 100.0;
    double wall = (System.nanoTime() - t0) / 1e9;
    long rssKb = rssKb(pid);
    System.out.printf("  agent %s hosting %d apps: RSS %d MB, CPU %.2f%% of a core%n", id, appsHosted, rssKb / 1024, 100 * cpuSeconds / wall);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("appsHosted", appsHosted);
    m.put("rssMB", rssKb / 1024);
    m.put("cpuPercentOfCore", 100 * cpuSeconds / wall);
    return m;
  }

  static long cpuTicks(long pid) throws IOException {
    String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  private static long rssKb(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
    return -1;
  }
}
