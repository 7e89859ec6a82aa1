package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true, description = "Start a 3-agent cluster on loopback, fail an app over and back, and stop.",
    footer = {"", "Example:", "  bin/understudy demo"})
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--base-port", defaultValue = "7750") int basePort;
  @Option(names = "--keep", description = "leave the cluster running at the end") boolean keep;

  private final long t0 = System.nanoTime();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(300)).build();

  private void say(String fmt, Object... args) {
    System.out.printf("[%6.2fs] %s%n", (System.nanoTime() - t0) / 1e9, String.format(fmt, args));
  }

  @Override
  public Integer call() throws Exception {
    Path dir = Files.createTempDirectory("understudy-demo-");
    LocalCluster lc = null;
    try {
      say("Starting 3 agents (s1, s2, s3) on 127.0.0.11-13; they elect a database leader and take their leases...");
      lc = LocalCluster.up(dir, 3, basePort, null, false, msg -> say("  ... %s", msg));
      say("Cluster ready. Agents: %s", lc.urls());
      String java = ProcessHandle.current().info().command().orElse("java");
      Path counterJar = examplesJar();
      Path workLog = dir.resolve("work.log");
      Map<String, Object> spec;
      if (counterJar != null) {
        spec = Map.of("tag", "hello", "type", "AWARE",
            "command", Map.of("argv", List.of(java, "-Xmx32m", "-XX:TieredStopAtLevel=1", "-jar", counterJar.toString()),
                "env", Map.of("WORK_LOG", workLog.toString(), "STEP_MS", "100")),
            "primary", "s1", "backups", List.of("s2", "s3"), "autoFailback", true,
            "service", Map.of("clusterPort", 8080, "appPort", 9080));
        lc.client("s2").post("/api/v1/apps", spec);
        say("Registered app 'hello': the sample cluster-aware counter (examples/), which processes numbered items and");
        say("saves a marker after each. Primary s1, backups s2 then s3, auto-failback on.");
      } else {
        spec = Map.of("tag", "hello", "type", "CAPABLE",
            "command", Map.of("argv", HelloService.argv(false)),
            "primary", "s1", "backups", List.of("s2", "s3"), "autoFailback", true,
            "service", Map.of("clusterPort", 8080, "appPort", 9080));
        lc.client("s2").post("/api/v1/apps", spec);
        say("Registered app 'hello' (an HTTP service): primary s1, backups s2 then s3, auto-failback on.");
      }
      waitFor(lc, "s2", a -> "s1".equals(a.path("host").asText()) && "RUNNING".equals(a.path("state").asText()), 30, "hello to run on s1");
      say("hello runs on s1. Clients use any agent's cluster port 8080; each forwards to the current host.");
      say("GET http://127.0.0.13:8080/ (through s3) -> %s", awaitHttp("127.0.0.13", 10));

      say("Killing s1 with SIGKILL (agent and app): the server just died.");
      lc.kill("s1");
      long killed = System.nanoTime();
      JsonNode moved = waitFor(lc, "s2", a -> "s2".equals(a.path("host").asText()) && "RUNNING".equals(a.path("state").asText()), 30, "failover to s2");
      String answer = awaitHttp("127.0.0.13", 10);
      double failover = (System.nanoTime() - killed) / 1e9;
      say("FAILOVER done in %.2f s (kill to first answer through the cluster): s2 saw s1 DOWN (LAN heartbeats lost,"
          + " lease expired) and took over at epoch %d.",
          failover, moved.path("epoch").asLong());
      say("Same client, same address: GET http://127.0.0.13:8080/ (through s3) -> %s", answer);
      printEvents(lc, "s2", 4);

      say("Restarting s1: it rejoins, catches up the database, takes a new lease...");
      lc.start("s1");
      long restarted = System.nanoTime();
      lc.awaitReady(msg -> say("  ... %s", msg), 60_000);
      say("s1 is back. s2 waits the failback hold time (%s) so a flapping primary cannot bounce the app,",
          lc.config("s1").timingValues().failbackHold().toMillis() + " ms");
      say("then stops hello, and only then hands it to s1 (never on two servers at once).");
      JsonNode back = waitFor(lc, "s2", a -> "s1".equals(a.path("host").asText()) && "RUNNING".equals(a.path("state").asText()), 40, "failback to s1");
      String answer2 = awaitHttp("127.0.0.13", 10);
      say("FAILBACK done %.2f s after s1 restarted: hello runs on s1 again at epoch %d.",
          (System.nanoTime() - restarted) / 1e9, back.path("epoch").asLong());
      say("GET http://127.0.0.13:8080/ (through s3) -> %s", answer2);
      printEvents(lc, "s1", 4);
      if (counterJar != null) {
        lc.client("s1").post("/api/v1/apps/hello/unload", "");
        waitFor(lc, "s1", a -> "UNLOADED".equals(a.path("state").asText()), 20, "hello to unload");
        reportWork(workLog);
      }
      say("Demo complete: failover in %.2f s, failback after the hold time, one host at a time.", failover);
      return 0;
    } finally {
      if (lc != null && !keep) {
        say("Stopping the cluster...");
        lc.down();
        LocalCluster.deleteTree(dir);
        say("Stopped; nothing left running.");
      } else if (lc != null) {
        say("Cluster left running in %s (stop it with: understudy local down --dir %s)", dir, dir);
      }
    }
  }

  /** The sample counter's jar, built beside the agent's (examples/target), or null when it was not built. */
  private static Path examplesJar() {
    try {
      Path self = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path jar = self.getParent().getParent().getParent().resolve("examples/target/understudy-examples.jar");
      return Files.isRegularFile(jar) ? jar : null;
    } catch (Exception e) {
      return null;
    }
  }

  /** Reads the counter's work log: every item once, except at most the one in progress when its host was killed. */
  private void reportWork(Path workLog) throws IOException {
    java.util.TreeMap<Long, List<String>> items = new java.util.TreeMap<>();
    for (String line : Files.readAllLines(workLog)) {
      String[] f = line.split(" ");
      if (f.length == 5) items.computeIfAbsent(Long.parseLong(f[1]), k -> new java.util.ArrayList<>()).add(f[2] + "@" + f[3]);
    }
    if (items.isEmpty()) return;
    long missing = 0;
    for (long n = items.firstKey(); n <= items.lastKey(); n++) if (!items.containsKey(n)) missing++;
    List<String> twice = items.entrySet().stream().filter(e -> e.getValue().size() > 1)
        .map(e -> e.getKey() + " (" + String.join(", ", e.getValue()) + ")").toList();
    java.util.LinkedHashMap<String, Integer> runs = new java.util.LinkedHashMap<>();
    for (String line : Files.readAllLines(workLog)) {
      String[] f = line.split(" ");
      if (f.length == 5) runs.merge(f[2] + " at epoch " + f[3], 1, Integer::sum);
    }
    say("The counter's work log: items %d..%d processed as %s.", items.firstKey(), items.lastKey(), runs);
    say("Missing items: %d. Items done twice: %s (at most the one in progress when s1 was killed, i.e. since its last marker).",
        missing, twice.isEmpty() ? "none" : twice);
  }

  private JsonNode waitFor(LocalCluster lc, String via, Predicate<JsonNode> ok, int seconds, String what) throws InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    long lastDot = System.nanoTime();
    while (System.nanoTime() < deadline) {
      try {
        JsonNode a = lc.client(via).get("/api/v1/apps/hello");
        if (ok.test(a)) return a;
      } catch (CliException e) {
        // the agent we ask may be busy; try again
      }
      if (System.nanoTime() - lastDot > 2_000_000_000L) {
        say("  ... waiting for %s", what);
        lastDot = System.nanoTime();
      }
      Thread.sleep(25);
    }
    throw new CliException(1, "timed out waiting for " + what);
  }

  private String get(String host) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + host + ":8080/"))
          .timeout(Duration.ofMillis(500)).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body().trim() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private String awaitHttp(String host, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (System.nanoTime() < deadline) {
      String r = get(host);
      if (r != null) return r;
      Thread.sleep(20);
    }
    throw new CliException(1, "the app did not answer on " + host);
  }

  private void printEvents(LocalCluster lc, String via, int n) {
    try {
      JsonNode evs = lc.client(via).get("/api/v1/events?limit=" + n);
      for (JsonNode e : evs) say("    event  %s", EventsCommand.format(e));
    } catch (CliException ignored) {
      // events are a nicety here
    }
  }
}
