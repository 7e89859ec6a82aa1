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

  static boolean hostRunning(LocalCluster lc, String via, String host) {
    try {
      JsonNode a = lc.client(via).get("/api/v1/apps/db");
      return host.equals(a.path("host").asText()) && "RUNNING".equals(a.path("state").asText());
    } catch (CliException e) {
      return false;
    }
  }
}
