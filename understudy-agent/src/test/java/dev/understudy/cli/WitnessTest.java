package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.testing.Ports;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The patent's own setting: two servers, plus a witness that votes but never hosts. */
class WitnessTest {
  @Test
  void twoServersAndAWitnessFailOver() throws Exception {
    Path dir = Path.of("target/witness-" + System.nanoTime()).toAbsolutePath();
    LocalCluster lc = LocalCluster.up(dir, 3, Ports.free("127.0.0.11"), null, false, false, Map.of(), true, null);
    try {
      JsonNode st = lc.client("s1").get("/api/v1/status");
      assertThat(st.path("servers").get(2).path("role").asText()).isEqualTo("witness");
      assertThat(MembershipTest.status(() -> lc.client("s1").post("/api/v1/apps", Map.of("tag", "w",
          "command", Map.of("argv", List.of("true")), "primary", "s1", "backups", List.of("s3")))))
          .contains("witness").contains("HTTP 400");
      lc.client("s1").post("/api/v1/apps", Map.of("tag", "db", "command", Map.of("argv", List.of("sleep", "100000")),
          "primary", "s1", "backups", List.of("s2"), "autoFailback", true));
      await().atMost(Duration.ofSeconds(20)).until(() -> hostRunning(lc, "s2", "s1"));
      lc.kill("s1");
      await().atMost(Duration.ofSeconds(20)).until(() -> hostRunning(lc, "s2", "s2"));
      lc.start("s1");
      await().atMost(Duration.ofSeconds(40)).until(() -> hostRunning(lc, "s2", "s1"));
    } finally {
      lc.down();
    }
  }

  /**
   * #24: after the primary and then the witness were killed, the survivor had no majority and its fence had stopped
   * the app, yet its status printed the app RUNNING there, exit code 0, no word that the view was frozen.
   */
  @Test
  void aSurvivorWithoutAMajoritySaysItsViewIsFrozenAndWhatItsFenceStopped() throws Exception {
    Path dir = Path.of("target/witness-" + System.nanoTime()).toAbsolutePath();
    LocalCluster lc = LocalCluster.up(dir, 3, Ports.free("127.0.0.11"), null, false, false, Map.of(), true, null);
    try {
      lc.client("s1").post("/api/v1/apps", Map.of("tag", "db", "command", Map.of("argv", List.of("sleep", "100000")),
          "primary", "s1", "backups", List.of("s2")));
      await().atMost(Duration.ofSeconds(20)).until(() -> hostRunning(lc, "s2", "s1"));
      assertThat(status(lc, "s2").exit()).as("a current view").isZero();
      lc.kill("s1");
      await().atMost(Duration.ofSeconds(20)).until(() -> hostRunning(lc, "s2", "s2"));
      lc.kill("s3");
      await().atMost(Duration.ofSeconds(20)).until(() -> !lc.client("s2").get("/api/v1/status").path("view").path("current").asBoolean());
      await().atMost(Duration.ofSeconds(10)).until(() ->
          lc.client("s2").get("/api/v1/status").path("apps").get(0).path("onThisServer").asText().equals("NOT_RUNNING"));
      JsonNode st = lc.client("s2").get("/api/v1/status");
      assertThat(st.path("view").path("fenced").toString()).contains("\"db\"");
      assertThat(st.path("apps").get(0).path("state").asText()).as("the database, as last applied, still says").isEqualTo("RUNNING");
      CliRun out = status(lc, "s2");
      assertThat(out.exit()).as("the exit code of a frozen view").isEqualTo(StatusCommand.VIEW_NOT_CURRENT);
      assertThat(out.out()).contains("VIEW FROZEN since").contains("cannot reach a majority")
          .contains("s2's fence stopped: db").contains("NOT running on s2");
    } finally {
      lc.down();
    }
  }

  static CliRun status(LocalCluster lc, String via) { return CliRun.of("status", "--agent", lc.apiUrl(via)); }

  static boolean hostRunning(LocalCluster lc, String via, String host) {
    try {
      JsonNode a = lc.client(via).get("/api/v1/apps/db");
      return host.equals(a.path("host").asText()) && "RUNNING".equals(a.path("state").asText());
    } catch (CliException e) {
      return false;
    }
  }
}
