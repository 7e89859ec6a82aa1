package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.testing.History;
import dev.understudy.testing.Http;
import dev.understudy.testing.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real agent processes on 127.0.0.11-13 with faults injected: kill -9, SIGSTOP, leader loss, restart. Every
 * app instance appends to a history file outside the cluster; the one-host invariant (S1) is checked on it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalClusterTest {
  static Path dir = Path.of(System.getProperty("lct.dir", "target/lct-" + System.nanoTime())).toAbsolutePath();
  static LocalCluster lc;
  static Path history;

  @BeforeAll
  static void up() throws Exception {
    int base = Ports.free("127.0.0.11");
    lc = LocalCluster.up(dir.resolve("cluster"), 3, base, null, true, null);
    history = dir.resolve("history.log");
    Files.createDirectories(dir);
    Files.createFile(history);
  }

  @AfterAll
  static void down() throws Exception {
    if (lc != null) lc.down();
  }

  static JsonNode app(String via, String tag) { return lc.client(via).get("/api/v1/apps/" + tag); }

  static boolean runsOn(String via, String tag, String server) {
    try {
      JsonNode a = app(via, tag);
      return server.equals(a.path("host").asText()) && "RUNNING".equals(a.path("state").asText());
    } catch (CliException e) {
      return false;
    }
  }

  static void addRecordingApp(String tag, String primary, List<String> backups, boolean autoFailback) {
    lc.client("s1").post("/api/v1/apps", Map.of("tag", tag, "command", Map.of("argv", History.recorderCommand(history)),
        "primary", primary, "backups", backups, "autoFailback", autoFailback));
  }

  @Test
  @Order(1)
  void statusShowsThreeServersAndOneLeader() {
    JsonNode s = lc.client("s2").get("/api/v1/status");
    assertThat(s.path("servers")).hasSize(3);
    long leaders = 0;
    for (JsonNode sv : s.path("servers")) if (sv.path("leader").asBoolean()) leaders++;
    assertThat(leaders).isEqualTo(1);
  }

  @Test
  @Order(2)
  void killedHostFailsOverToFirstBackupAndFailsBack() throws Exception {
    addRecordingApp("rec", "s1", List.of("s2", "s3"), true);
    await().atMost(Duration.ofSeconds(20)).until(() -> runsOn("s2", "rec", "s1"));
    lc.kill("s1");
    long t0 = System.nanoTime();
    await().atMost(Duration.ofSeconds(20)).until(() -> runsOn("s2", "rec", "s2"));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(ms).as("failover bound (lease 1 s + margins), generous for a shared machine").isLessThan(10_000);
    lc.start("s1");
    await().atMost(Duration.ofSeconds(40)).until(() -> runsOn("s2", "rec", "s1"));
    History.assertOneHostAtATime(history);
  }

  @Test
  @Order(3)
  void pausedHostIsFencedAndNeverRunsTwice() throws Exception {
    await().atMost(Duration.ofSeconds(20)).until(() -> runsOn("s2", "rec", "s1"));
    lc.signalAgent("s1", "STOP");
    try {
      await().atMost(Duration.ofSeconds(20)).until(() -> runsOn("s2", "rec", "s2"));
    } finally {
      lc.signalAgent("s1", "CONT");
    }
    // s1 wakes up: its lease was revoked; it must not run rec again, and later takes it back by failback
    await().atMost(Duration.ofSeconds(40)).until(() -> runsOn("s3", "rec", "s1"));
    History.assertOneHostAtATime(history);
    assertThat(History.instances(history)).hasSizeGreaterThanOrEqualTo(4);
  }

  @Test
  @Order(4)
  void heartbeatLossAloneMovesNothingWhileLeasesRenew() throws Exception {
    await().atMost(Duration.ofSeconds(20)).until(() -> runsOn("s2", "rec", "s1"));
    long epoch = app("s2", "rec").path("epoch").asLong();
    // cut LAN heartbeats between s1 and the others, but the database (and so the lease) still flows
    lc.client("s1").post("/api/v1/debug/faults", Map.of("dropHeartbeats", List.of("s2", "s3")));
    try {
      await().atMost(Duration.ofSeconds(10)).until(() ->
          "DOWN".equals(verdict("s2", "s1")) || "SUSPECT".equals(verdict("s2", "s1")));
      Thread.sleep(3000);
      assertThat(app("s2", "rec").path("epoch").asLong()).as("no failover while s1 holds its lease").isEqualTo(epoch);
      assertThat(app("s2", "rec").path("host").asText()).isEqualTo("s1");
    } finally {
      lc.client("s1").post("/api/v1/debug/faults", Map.of("dropHeartbeats", List.of()));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> "UP".equals(verdict("s2", "s1")));
  }

  static String verdict(String via, String of) {
    for (JsonNode sv : lc.client(via).get("/api/v1/status").path("servers")) {
      if (sv.path("id").asText().equals(of)) return sv.path("verdict").asText();
    }
    return null;
  }

  @Test
  @Order(5)
  void killingTheLeaderLeavesTheOthersWriting() throws Exception {
    // s1 may be between leaders (an earlier test restarted servers): wait until it names one
    String leader = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
        .until(() -> lc.client("s1").get("/healthz").path("leader").asText(), l -> !l.isEmpty());
    String other = lc.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    lc.kill(leader);
    long t0 = System.nanoTime();
    try {
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
        try {
          lc.client(other).post("/api/v1/apps", Map.of("tag", "after-" + leader, "command", Map.of("argv", List.of("sleep", "1000")),
              "primary", other, "backups", List.of(leader)));
          return true;
        } catch (CliException e) {
          return e.getMessage().contains("already exists");
        }
      });
      long ms = (System.nanoTime() - t0) / 1_000_000;
      System.out.println("writes resumed " + ms + " ms after the leader was killed");
      assertThat(ms).as("writes resume after leader loss (generous: shared machine)").isLessThan(10_000);
    } finally {
      lc.start(leader); // whatever happened, the next tests need it back
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      try {
        return lc.client(leader).get("/api/v1/apps").size() == lc.client(other).get("/api/v1/apps").size();
      } catch (CliException e) {
        return false;
      }
    });
    History.assertOneHostAtATime(history);
  }

  @Test
  @Order(6)
  void clientThroughANonHostAgentFollowsTheAppAcrossFailover() throws Exception {
    int clusterPort = Ports.free("127.0.0.13");
    int appPort = Ports.free("127.0.0.11");
    lc.client("s1").post("/api/v1/apps", Map.of("tag", "svc", "command", Map.of("argv", HelloService.argv(false)),
        "primary", "s1", "backups", List.of("s2"), "autoFailback", true,
        "service", Map.of("clusterPort", clusterPort, "appPort", appPort)));
    String url = "http://127.0.0.13:" + clusterPort + "/";
    await().atMost(Duration.ofSeconds(30)).until(() -> String.valueOf(Http.get(url)).contains("hello from s1"));
    lc.kill("s1");
    long t0 = System.nanoTime();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> String.valueOf(Http.get(url)).contains("hello from s2"));
    long gapMs = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("forwarded client gap across failover: " + gapMs + " ms");
    assertThat(gapMs).isLessThan(15_000);
    lc.start("s1");
    await().atMost(Duration.ofSeconds(40)).until(() -> String.valueOf(Http.get(url)).contains("hello from s1"));
  }

  @Test
  @Order(7)
  void badRequestsChangeNothing() {
    int before = lc.client("s1").get("/api/v1/apps").size();
    Client noToken = new Client(lc.apiUrl("s1"), null);
    Client wrongToken = new Client(lc.apiUrl("s1"), "not-the-token");
    Map<String, Object> ok = Map.of("tag", "x", "command", Map.of("argv", List.of("true")), "primary", "s1", "backups", List.of("s2"));
    assertThat(MembershipTest.status(() -> noToken.post("/api/v1/apps", ok))).contains("HTTP 401");
    assertThat(MembershipTest.status(() -> wrongToken.post("/api/v1/apps", ok))).contains("HTTP 403");
    Client c = lc.client("s1");
    assertThat(MembershipTest.status(() -> c.post("/api/v1/apps", "{not json"))).contains("HTTP 400");
    assertThat(MembershipTest.status(() -> c.post("/api/v1/apps", Map.of("tag", "x", "command", Map.of("argv", List.of("true")),
        "primary", "s1", "backups", List.of("s9"))))).contains("unknown server").contains("HTTP 400");
    assertThat(MembershipTest.status(() -> c.post("/api/v1/apps", Map.of("tag", "x", "colour", "blue")))).contains("HTTP 400");
    assertThat(MembershipTest.status(() -> c.post("/api/v1/apps/nope/move", Map.of("to", "s2")))).contains("HTTP 404");
    assertThat(MembershipTest.status(() -> c.post("/api/v1/apps/rec/move", Map.of("to", "s9")))).contains("unknown server");
    assertThat(lc.client("s1").get("/api/v1/apps").size()).isEqualTo(before);
  }

  /**
   * #24: the shipped Grafana dashboard and Prometheus alert rules use only metrics that exist. Read after this class's
   * failovers, failbacks and fence kills, from every agent, so the series created by those events are there too.
   */
  /** Metric names the agents exposed after each test (an agent killed and restarted starts its counts again). */
  static final java.util.Set<String> exposed = new java.util.concurrent.ConcurrentSkipListSet<>();

  @org.junit.jupiter.api.AfterEach
  void collectExposedMetrics() {
    for (String id : lc.ids()) {
      if (!lc.running(id)) continue;
      String scrape = String.valueOf(Http.get(lc.apiUrl(id) + "/metrics"));
      for (String line : scrape.split("\n")) {
        if (!line.isEmpty() && !line.startsWith("#")) exposed.add(line.split("[{ ]")[0]);
      }
    }
  }

  @Test
  @Order(8)
  void theDashboardAndAlertRulesUseOnlyMetricsThatExist() throws Exception {
    collectExposedMetrics();
    Path monitoring = Path.of("..", "monitoring");
    java.util.Set<String> used = new java.util.TreeSet<>();
    for (String file : List.of("grafana-dashboard.json", "alerts.yml")) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("understudy_[a-z_]+").matcher(Files.readString(monitoring.resolve(file)));
      while (m.find()) used.add(m.group());
    }
    assertThat(used).as("the dashboard and the alerts use metrics").hasSizeGreaterThan(10);
    assertThat(exposed).as("every metric the dashboard and alerts use, in " + exposed).containsAll(used);
  }
}
