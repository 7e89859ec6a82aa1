package dev.understudy.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.testing.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Fault injection against real agent processes. In CI: a short run with a fixed seed. On demand (bin/chaos):
 * {@code -Dchaos.minutes=30 -Dchaos.seed=random -Dchaos.servers=5}. On failure it prints the seed, the schedule and
 * the violations, so the run can be replayed with the same seed.
 */
class FaultInjectionTest {
  @Test
  void faultsNeverBreakTheInvariants() throws Exception {
    String seedProp = System.getProperty("chaos.seed", "20261125");
    long seed = seedProp.equals("random") ? System.nanoTime() : Long.parseLong(seedProp);
    double minutes = Double.parseDouble(System.getProperty("chaos.minutes", "0.75"));
    int servers = Integer.parseInt(System.getProperty("chaos.servers", "3"));
    Path dir = Path.of("target/chaos-" + seed + "-" + System.nanoTime()).toAbsolutePath();
    Chaos.Settings s = new Chaos.Settings(seed, servers, (long) (minutes * 60_000), Ports.free("127.0.0.11"), dir);
    Chaos chaos = Chaos.start(s);
    Checker checker = new Checker();
    Map<String, JsonNode> events = new LinkedHashMap<>();
    Thread poller = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        collectEvents(chaos, events);
        try {
          Thread.sleep(3000);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    poller.setDaemon(true);
    try {
      poller.start();
      chaos.run();
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(() -> {
        JsonNode apps = chaos.lc.client("s1").get("/api/v1/apps");
        // an app waiting for its failback to be approved runs too: waiting for RUNNING took the whole minute
        for (JsonNode a : apps) if (!Set.of("RUNNING", "FAILBACK_PENDING").contains(a.path("state").asText())) return false;
        return true;
      });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      // judged below
    } finally {
      poller.interrupt();
      poller.join(5000);
      // the final reads come from s1's replica: restarted at the very end, it may still be replaying its log (in an
      // upgrade run it was 500 entries behind, and an acknowledged attribute looked lost)
      try {
        chaos.lc.awaitReady(null, 30_000);
      } catch (dev.understudy.cli.CliException e) {
        // judged below on what s1 has
      }
      collectEvents(chaos, events);
      JsonNode apps = chaos.lc.client("s1").get("/api/v1/apps");
      checker.checkFinal(apps, chaos.apps);
      checker.checkD1(apps, chaos.ackedAttributes);
      chaos.close();
    }
    checker.checkS1(chaos.history);
    checker.checkL1(chaos.history, chaos.faults, chaos.t0, new ArrayList<>(events.values()));
    checker.checkF1(new ArrayList<>(events.values()), chaos.faults, chaos.t0);
    checker.checkOrphans(chaos.history);
    checker.checkResources(chaos.defs.resources);
    checker.checkStarts(chaos.defs.starts, chaos.faults, chaos.t0, 3, 500);
    checker.checkEpochs(chaos.history);
    checker.checkFormats(new ArrayList<>(events.values()), chaos.upgradeFrom, chaos.faults, chaos.lc.ids().size());
    checker.notes.add("snapshot installs: " + chaos.snapshotInstalls());
    StringBuilder report = new StringBuilder();
    report.append("chaos run: seed ").append(seed).append(", ").append(servers).append(" servers, ").append(minutes)
        .append(" min, ").append(chaos.faults.size()).append(" faults and operator actions\n");
    chaos.faults.forEach(f -> report.append("  ").append(f).append('\n'));
    checker.notes.forEach(n -> report.append("  note: ").append(n).append('\n'));
    checker.violations.forEach(v -> report.append("  VIOLATION: ").append(v).append('\n'));
    Files.writeString(dir.resolve("report.txt"), report);
    System.out.println(report);
    assertThat(checker.violations).as("replay with -Dchaos.seed=%d; report in %s", seed, dir.resolve("report.txt")).isEmpty();
  }

  private static void collectEvents(Chaos chaos, Map<String, JsonNode> into) {
    for (String id : chaos.lc.ids()) {
      try {
        for (JsonNode e : chaos.lc.client(id).get("/api/v1/events?limit=1000")) {
          synchronized (into) {
            into.put(e.path("id").asText(), e);
          }
        }
        return;
      } catch (RuntimeException ignored) {
        // this agent may be down; ask the next
      }
    }
  }
}
