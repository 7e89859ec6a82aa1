package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.testing.History;
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

/**
 * #22 against real agents: draining a server moves each of its apps away with no two hosts at once, resuming it lets
 * them come home; in maintenance mode a kill -9 of a host moves nothing, and on leaving it the cluster acts.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MaintenanceTest {
  static Path dir = Path.of("target", "maintenance-" + System.nanoTime()).toAbsolutePath();
  LocalCluster lc;
  Path history;

  @BeforeAll
  void up() throws Exception {
    Files.createDirectories(dir);
    history = Files.createFile(dir.resolve("history.log"));
    lc = LocalCluster.up(dir.resolve("cluster"), 3, Ports.free("127.0.0.11"), null, false, null);
    for (String tag : List.of("web", "db")) {
      lc.client("s1").post("/api/v1/apps", Map.of("tag", tag, "command", Map.of("argv", History.recorderCommand(history)),
          "primary", "s1", "backups", List.of("s2", "s3"), "autoFailback", true));
    }
    for (String tag : List.of("web", "db")) await().atMost(Duration.ofSeconds(30)).until(() -> hostRunning(tag, "s1"));
  }

  @AfterAll
  void down() throws Exception {
    if (lc != null) lc.down();
  }

  boolean hostRunning(String tag, String host) {
    try {
      JsonNode a = lc.client("s3").get("/api/v1/apps/" + tag);
      return host.equals(a.path("host").asText()) && "RUNNING".equals(a.path("state").asText());
    } catch (CliException e) {
      return false;
    }
  }

  @Test
  @Order(1)
  void drainingAServerMovesEachAppAwayAndResumingBringsThemHome() throws Exception {
    lc.client("s2").post("/api/v1/servers/s1/drain", "");
    // to its first backup s2, or to s3 when s2 cannot take it at that moment (a full verify: s2 fenced itself then)
    for (String tag : List.of("web", "db")) {
      await().atMost(Duration.ofSeconds(30)).until(() -> hostRunning(tag, "s2") || hostRunning(tag, "s3"));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> lc.client("s2").get("/api/v1/status").path("maintenance").path("drained").toString().contains("s1"));
    JsonNode st = lc.client("s2").get("/api/v1/status");
    assertThat(st.path("maintenance").path("drained").toString()).contains("s1");
    assertThat(StatusCommand.render(st)).contains("DRAINED");
    lc.client("s2").post("/api/v1/servers/s1/resume", "");
    for (String tag : List.of("web", "db")) await().atMost(Duration.ofSeconds(40)).until(() -> hostRunning(tag, "s1"));
    History.assertOneHostAtATime(history);
    // #24: every agent counted every event; now each counts those it raised, so the sum is the cluster's count
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(summedCounters()).isEqualTo(recordedEvents()));
  }

  /** understudy_events_total of every agent, summed by kind. */
  Map<String, Long> summedCounters() throws Exception {
    Map<String, Long> sum = new java.util.TreeMap<>();
    var http = java.net.http.HttpClient.newHttpClient();
    for (String id : lc.ids()) {
      String body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(lc.apiUrl(id) + "/metrics"))
          .header("Authorization", "Bearer " + lc.token()).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      var m = java.util.regex.Pattern.compile("(?m)^understudy_events_total\\{kind=\"([A-Z_]+)\",[^}]*} ([0-9.]+)$").matcher(body);
      while (m.find()) sum.merge(m.group(1), (long) Double.parseDouble(m.group(2)), Long::sum);
    }
    return sum;
  }

  /** The events in the database, counted by kind. */
  Map<String, Long> recordedEvents() {
    Map<String, Long> n = new java.util.TreeMap<>();
    for (JsonNode e : lc.client("s3").get("/api/v1/events?limit=1000")) n.merge(e.path("kind").asText(), 1L, Long::sum);
    return n;
  }

  @Test
  @Order(2)
  void inMaintenanceAKilledHostsAppsStayPutUntilItEnds() throws Exception {
    lc.client("s2").post("/api/v1/maintenance/on", "");
    // status is s3's replica: it shows the record once s3 has applied it
    await().atMost(Duration.ofSeconds(5)).until(() -> StatusCommand.render(lc.client("s3").get("/api/v1/status")).contains("MAINTENANCE ON"));
    lc.kill("s1");
    long until = System.nanoTime() + Duration.ofSeconds(6).toNanos();
    while (System.nanoTime() < until) { // six seconds: several times the detection and takeover time
      assertThat(lc.client("s3").get("/api/v1/apps/web").path("host").asText()).as("nothing moves in maintenance").isEqualTo("s1");
      await().pollDelay(Duration.ofMillis(200)).until(() -> true);
    }
    lc.client("s2").post("/api/v1/maintenance/off", "");
    for (String tag : List.of("web", "db")) await().atMost(Duration.ofSeconds(30)).until(() -> hostRunning(tag, "s2"));
    History.assertOneHostAtATime(history);
    var kinds = lc.client("s3").get("/api/v1/events?limit=1000").toString();
    assertThat(kinds).contains("SERVER_DRAINED").contains("SERVER_RESUMED").contains("MAINTENANCE_ON").contains("MAINTENANCE_OFF")
        .contains("\"DRAIN\"");
  }
}
