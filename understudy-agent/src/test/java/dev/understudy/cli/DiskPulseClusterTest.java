package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.testing.Http;
import dev.understudy.testing.Ports;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** Three agent processes with LAN heartbeats AND a disk pulse (a shared file): the patent's two channels. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DiskPulseClusterTest {
  static final Path DIR = Path.of("target/disk-cluster-" + System.nanoTime()).toAbsolutePath();
  static LocalCluster lc;

  @BeforeAll
  static void up() throws Exception {
    lc = LocalCluster.up(DIR, 3, Ports.free("127.0.0.11"), null, true, true, null);
  }

  @AfterAll
  static void down() throws Exception {
    if (lc != null) lc.down();
  }

  static JsonNode server(String via, String id) {
    for (JsonNode sv : lc.client(via).get("/api/v1/status").path("servers")) if (sv.path("id").asText().equals(id)) return sv;
    throw new AssertionError("no server " + id);
  }

  static String verdict(String via, String id) { return server(via, id).path("verdict").asText(); }

  static long selfPauses(String id) {
    for (String line : String.valueOf(Http.get(lc.apiUrl(id) + "/metrics")).split("\n")) {
      if (line.startsWith("understudy_self_pauses_total")) return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }
    throw new AssertionError("no understudy_self_pauses_total on " + id);
  }

  @Test
  @Order(1)
  void everyoneSeesEveryDiskAlive() {
    await().atMost(Duration.ofSeconds(10)).until(() -> "ALIVE".equals(server("s2", "s1").path("disk").asText())
        && "UP".equals(verdict("s2", "s1")));
  }

  @Test
  @Order(2)
  void lanOutageWhileTheDiskBeatsIsSuspectNeverDown() throws Exception {
    lc.client("s1").post("/api/v1/apps", Map.of("tag", "d", "command", Map.of("argv", List.of("sleep", "100000")),
        "primary", "s1", "backups", List.of("s2")));
    await().atMost(Duration.ofSeconds(20)).until(() -> "RUNNING".equals(lc.client("s2").get("/api/v1/apps/d").path("state").asText()));
    lc.client("s1").post("/api/v1/debug/faults", Map.of("dropHeartbeats", List.of("s2", "s3")));
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> "SUSPECT".equals(verdict("s2", "s1")));
      long pausesBefore = selfPauses("s2");
      for (int i = 0; i < 20; i++) {
        String seen = verdict("s2", "s1");
        // an observer that found itself paused (a starved test machine) forgives its peers for one timeout: UP then
        if (!"SUSPECT".equals(seen)) {
          assertThat(seen).as("s2 counted a pause of its own").isEqualTo("UP");
          assertThat(selfPauses("s2")).as("UP while the LAN is cut, only after s2 paused").isGreaterThan(pausesBefore);
        }
        assertThat(verdict("s3", "s1")).isIn("SUSPECT", "UP");
        Thread.sleep(100);
      }
      assertThat(lc.client("s2").get("/api/v1/apps/d").path("host").asText()).isEqualTo("s1");
    } finally {
      lc.client("s1").post("/api/v1/debug/faults", Map.of("dropHeartbeats", List.of()));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> "UP".equals(verdict("s2", "s1")));
  }

  @Test
  @Order(3)
  void frozenDiskAloneIsNotDeath() throws Exception {
    lc.client("s1").post("/api/v1/debug/faults", Map.of("freezeDisk", true));
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> "STALE".equals(server("s2", "s1").path("disk").asText()));
      assertThat(verdict("s2", "s1")).as("LAN still answers").isEqualTo("UP");
    } finally {
      lc.client("s1").post("/api/v1/debug/faults", Map.of("freezeDisk", false));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> "ALIVE".equals(server("s2", "s1").path("disk").asText()));
  }

  @Test
  @Order(4)
  void sigstopGivesDownOnceBothChannelsTimeOutAndSigcontBringsUp() throws Exception {
    lc.signalAgent("s3", "STOP");
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> "DOWN".equals(verdict("s2", "s3")));
      JsonNode s = server("s2", "s3");
      assertThat(s.path("lan").asText()).isEqualTo("lost");
      assertThat(s.path("disk").asText()).isIn("STALE", "FENCED");
    } finally {
      lc.signalAgent("s3", "CONT");
    }
    await().atMost(Duration.ofSeconds(15)).until(() -> "UP".equals(verdict("s2", "s3")));
  }
}
