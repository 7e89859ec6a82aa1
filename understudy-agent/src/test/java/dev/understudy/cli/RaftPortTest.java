package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.agent.AgentConfig;
import dev.understudy.testing.Ports;
import dev.understudy.testing.RaftIntruder;
import dev.understudy.tls.ClusterCa;
import dev.understudy.tls.ReloadingKeys;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Real agents (a local cluster, set up as {@code local up} does it) refuse every Raft client without the cluster's
 * certificate: no read, no write, no join; the database and the membership are unchanged afterwards (#21).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RaftPortTest {
  static Path dir = Path.of("target", "raftport-" + System.nanoTime()).toAbsolutePath();
  LocalCluster lc;
  final Map<String, String> raft = new LinkedHashMap<>();

  @BeforeAll
  void up() throws Exception {
    lc = LocalCluster.up(dir.resolve("cluster"), 3, Ports.free("127.0.0.11"), null, false, null);
    for (String id : lc.ids()) {
      AgentConfig c = lc.config(id);
      raft.put(id, c.address() + ":" + c.raftPort());
    }
    lc.client("s1").post("/api/v1/apps", Map.of("tag", "web", "command", Map.of("argv", List.of("sleep", "600")),
        "primary", "s1", "backups", List.of("s2")));
  }

  @AfterAll
  void down() throws Exception {
    if (lc != null) lc.down();
  }

  @Test
  void noCertificateNoReadNoWriteNoJoin() throws Exception {
    try (RaftIntruder plain = new RaftIntruder("local", raft, null)) {
      assertThat(plain.read("apps/")).as("read without a certificate").isNull();
      assertThat(plain.write("apps/evil", "{\"tag\":\"evil\"}")).as("write without a certificate").isFalse();
      assertThat(plain.join("s9", "127.0.0.19:7701")).as("join without a certificate").isFalse();
    }
    unchanged();
  }

  @Test
  void anotherCasCertificateNoReadNoWriteNoJoin() throws Exception {
    ClusterCa other = ClusterCa.init(dir.resolve("other-ca"), "local");
    var forged = ReloadingKeys.open(other.issue("s1", List.of("127.0.0.11"), ClusterCa.SERVER_VALIDITY));
    try (RaftIntruder c = new RaftIntruder("local", raft, forged)) {
      assertThat(c.read("apps/")).as("read with another CA's certificate").isNull();
      assertThat(c.write("apps/evil", "{\"tag\":\"evil\"}")).as("write with another CA's certificate").isFalse();
      assertThat(c.join("s9", "127.0.0.19:7701")).as("join with another CA's certificate").isFalse();
    }
    unchanged();
  }

  private void unchanged() {
    var apps = lc.client("s2").get("/api/v1/apps");
    assertThat(apps.toString()).contains("web").doesNotContain("evil");
    assertThat(lc.client("s3").get("/api/v1/status").path("servers")).hasSize(3);
  }
}
