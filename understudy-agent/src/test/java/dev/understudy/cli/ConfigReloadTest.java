package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.agent.AgentConfig;
import dev.understudy.testing.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * #23 on a real agent: {@code config reload} (and SIGHUP) applies what is safe at run time, names what waits for a
 * restart, and a file that does not validate changes nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConfigReloadTest {
  static Path dir = Path.of("target", "reload-" + System.nanoTime()).toAbsolutePath();
  LocalCluster lc;
  Path file;

  @BeforeAll
  void up() throws Exception {
    lc = LocalCluster.up(dir.resolve("cluster"), 1, Ports.free("127.0.0.11"), null, false, null);
    file = lc.dir().resolve("s1").resolve("agent.yaml");
  }

  @AfterAll
  void down() throws Exception {
    if (lc != null) lc.down();
  }

  List<String> labels() {
    for (JsonNode s : lc.client("s1").get("/api/v1/servers")) {
      if ("s1".equals(s.path("id").asText())) return textList(s.path("inventory").path("labels"));
    }
    return List.of();
  }

  static List<String> textList(JsonNode n) {
    java.util.List<String> out = new java.util.ArrayList<>();
    n.forEach(x -> out.add(x.asText()));
    return out;
  }

  void write(AgentConfig c) throws Exception { c.write(file); }

  AgentConfig current() { return AgentConfig.load(file); }

  @Test
  void aReloadAppliesWhatIsSafeNamesTheRestAndABadFileChangesNothing() throws Exception {
    AgentConfig c = current();
    write(c.withLive(new AgentConfig.NotifyConfig(null, null, null, null, List.of("FAILOVER")),
        new AgentConfig.InventoryConfig(List.of("ssd"), null, null), c.apps())
        .withTiming(new AgentConfig.TimingConfig("relaxed", null, null, null, null, null, null, null, null, null, null, null, null, null)));
    JsonNode r = lc.client("s1").post("/api/v1/agent/reload", "");
    assertThat(textList(r.path("applied"))).contains("inventory.labels", "notifications.kinds");
    assertThat(textList(r.path("needRestart"))).containsExactly("timing.profile");
    await().atMost(Duration.ofSeconds(10)).until(() -> labels().contains("ssd"));
    assertThat(lc.client("s1").get("/api/v1/events?limit=100").toString()).contains("CONFIG_RELOADED");

    // a file that does not validate: refused, naming the key; the running agent keeps what it had
    String good = Files.readString(file);
    Client client = lc.client("s1"); // before the file goes bad: the test's own client reads it too
    Files.writeString(file, good.replace("ssd", "hdd") + "\nuplink:\n  targets: [\"no-port-here\"]\n");
    assertThatThrownBy(() -> client.post("/api/v1/agent/reload", ""))
        .hasMessageContaining("uplink.targets").hasMessageContaining("nothing changed");
    Files.writeString(file, good);
    assertThat(labels()).containsExactly("ssd");

    // SIGHUP does the same
    Files.writeString(file, good.replace("ssd", "nvme"));
    lc.signalAgent("s1", "HUP");
    await().atMost(Duration.ofSeconds(10)).until(() -> labels().contains("nvme"));
  }
}
