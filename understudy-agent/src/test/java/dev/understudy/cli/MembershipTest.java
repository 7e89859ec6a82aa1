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

/** A server added to a running cluster catches up and can host apps; removal is refused while apps name it. */
class MembershipTest {
  @Test
  void addServerThenRemoveIt() throws Exception {
    Path dir = Path.of("target/membership-" + System.nanoTime()).toAbsolutePath();
    LocalCluster lc = LocalCluster.up(dir, 3, Ports.free("127.0.0.11"), null, false, null);
    try {
      lc.client("s1").post("/api/v1/apps", Map.of("tag", "before", "command", Map.of("argv", List.of("sleep", "100000")),
          "primary", "s1", "backups", List.of("s2")));
      String s4 = lc.addServer();
      assertThat(s4).isEqualTo("s4");
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> lc.client("s4").get("/api/v1/apps").size() == 1);
      await().atMost(Duration.ofSeconds(20)).until(() -> "UP".equals(verdict(lc, "s1", "s4")) && "UP".equals(verdict(lc, "s4", "s1")));
      JsonNode st = lc.client("s2").get("/api/v1/status");
      assertThat(st.path("servers")).hasSize(4);
      // the new server can host: an app with s4 as primary runs there
      lc.client("s4").post("/api/v1/apps", Map.of("tag", "on4", "command", Map.of("argv", List.of("sleep", "100000")),
          "primary", "s4", "backups", List.of("s1")));
      await().atMost(Duration.ofSeconds(20)).until(() -> "RUNNING".equals(lc.client("s1").get("/api/v1/apps/on4").path("state").asText()));
      assertThat(status(() -> lc.client("s1").delete("/api/v1/servers/s4"))).contains("still primary or backup of [on4]");
      lc.client("s1").delete("/api/v1/apps/on4");
      lc.client("s1").delete("/api/v1/servers/s4");
      await().atMost(Duration.ofSeconds(10)).until(() -> lc.client("s2").get("/api/v1/status").path("servers").size() == 3);
      lc.kill("s4");
      assertThat(lc.client("s1").post("/api/v1/apps", Map.of("tag", "after", "command", Map.of("argv", List.of("true")),
          "primary", "s1", "backups", List.of("s3"))).path("tag").asText()).isEqualTo("after");
    } finally {
      lc.down();
    }
  }

  static String verdict(LocalCluster lc, String via, String of) {
    for (JsonNode sv : lc.client(via).get("/api/v1/status").path("servers")) {
      if (sv.path("id").asText().equals(of)) return sv.path("verdict").asText();
    }
    return null;
  }

  static String status(Runnable r) {
    try {
      r.run();
      return "no error";
    } catch (CliException e) {
      return e.getMessage();
    }
  }
}
