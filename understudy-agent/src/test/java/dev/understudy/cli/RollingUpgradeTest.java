package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.testing.History;
import dev.understudy.testing.Ports;
import dev.understudy.testing.PreviousBuild;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * #23: a rolling upgrade from the previous release, two builds of the agent in one cluster. The cluster starts on the
 * build before formats; each server in turn stops (SIGTERM, its apps left running under its fence) and starts on this
 * build, which adopts them. Nothing moves; the cluster keeps writing format 1 (which the previous build reads) while
 * any server runs it, and moves to format 2 once the last one is upgraded. Then a failover still works.
 */
class RollingUpgradeTest {
  @Test
  void aRollingUpgradeFromThePreviousReleaseMovesNothingThenRaisesTheFormat() throws Exception {
    PreviousBuild.Result previous = PreviousBuild.classpath(PreviousBuild.BEFORE_FORMATS);
    assumeTrue(previous.classpath().isPresent(), () -> "skipped: " + previous.why());
    Path dir = Path.of("target", "upgrade-" + System.nanoTime()).toAbsolutePath();
    Path cluster = dir.resolve("cluster");
    for (String id : List.of("s1", "s2", "s3")) {
      Files.createDirectories(cluster.resolve(id));
      Files.writeString(cluster.resolve(id).resolve("classpath"), previous.classpath().get());
    }
    Path history = Files.createFile(Files.createDirectories(dir).resolve("history.log"));
    // The relaxed profile (a 4 s lease, election timeouts of 0.5-1 s): each restart here moves or tests Raft leadership, on two cores
    // shared by three JVMs, two apps and the build. With the default profile CI saw the previous build's leader step
    // down when its one other follower, restarted a moment before and still catching up, answered 600 ms late (a
    // majority unheard for the 300 ms election timeout), and both servers fenced before the election ended. Leader
    // changes themselves are ReplicaInfoTest's and RaftStoreTest's; this test is about adoption and formats.
    LocalCluster lc = LocalCluster.up(cluster, 3, Ports.free("127.0.0.11"), Map.of("profile", "relaxed", "restartGrace", "15s"),
        false, null);
    try {
      lc.client("s1").post("/api/v1/apps", Map.of("tag", "db", "command", Map.of("argv", History.recorderCommand(history)),
          "primary", "s1", "backups", List.of("s2", "s3"), "autoFailback", false));
      lc.client("s1").post("/api/v1/apps", Map.of("tag", "web", "command", Map.of("argv", History.recorderCommand(history)),
          "primary", "s2", "backups", List.of("s3", "s1"), "autoFailback", false));
      await().atMost(Duration.ofSeconds(30)).until(() -> SnapshotTest.running(lc, "db", "s1") && SnapshotTest.running(lc, "web", "s2"));
      assertThat(lc.client("s1").get("/api/v1/cluster").has("format")).as("s1 runs the build before formats").isFalse();
      // The previous build, three cold JVMs and two starting apps on two cores: CI once saw that build fence and restart
      // db on s1 1.2 s after it started (the lease above was already doubled for it). What this test checks begins
      // with the upgrade, so it takes the processes running once the instances stopped changing, and asserts only that
      // the upgrade started none.
      List<History.Instance> before = settledInstances(history);
      assertThat(before.stream().map(History.Instance::tag).sorted().toList()).containsExactly("db", "web");

      long upgradeBegan = System.currentTimeMillis() * 1_000_000L; // the recorder's clock: date +%s%N
      for (String id : List.of("s3", "s2", "s1")) {
        Files.delete(cluster.resolve(id).resolve("classpath"));
        lc.signalAgent(id, "TERM");
        await().atMost(Duration.ofSeconds(30)).until(() -> !lc.running(id));
        lc.start(id);
        lc.awaitReady(null, 60_000);
        if (!id.equals("s1")) {
          assertThat(format(lc, id)).as("%s upgraded, another server still runs the previous build: format 1", id).isEqualTo(1);
        }
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> format(lc, "s1") == 2 && format(lc, "s2") == 2 && format(lc, "s3") == 2);
      await().atMost(Duration.ofSeconds(30)).until(() -> SnapshotTest.running(lc, "db", "s1") && SnapshotTest.running(lc, "web", "s2"));
      assertThat(kinds(lc, "FORMAT_RAISED")).singleElement().asString().contains("format 2");
      assertThat(kinds(lc, "FAILOVER")).as("nothing moved during the upgrade").isEmpty();
      assertThat(History.instances(history)).as("the same two processes throughout: adopted by the new build")
          .filteredOn(i -> i.last() >= upgradeBegan).extracting(History.Instance::pid)
          .containsExactlyInAnyOrderElementsOf(before.stream().map(History.Instance::pid).toList());

      // at format 2 (versioned entries and heartbeats), a host's death still fails its app over, once
      lc.kill("s1");
      await().atMost(Duration.ofSeconds(30)).until(() -> SnapshotTest.running(lc, "db", "s2"));
      History.assertOneHostAtATime(history);
    } finally {
      lc.down();
    }
  }

  /**
   * The instance of each app still recording once no instance has started or ended for 3 s (the recorder writes every
   * 20 ms, so a live one's last line is never older than that).
   */
  static List<History.Instance> settledInstances(Path history) {
    long[] changedAt = {System.nanoTime()};
    var seen = new java.util.concurrent.atomic.AtomicReference<List<Long>>(List.of());
    return await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> {
      List<History.Instance> all = History.instances(history);
      long now = System.currentTimeMillis() * 1_000_000L;
      List<History.Instance> live = all.stream().filter(i -> now - i.last() < 1_000_000_000L).toList();
      List<Long> pids = all.stream().map(History.Instance::pid).sorted().toList();
      if (!pids.equals(seen.getAndSet(pids))) {
        changedAt[0] = System.nanoTime();
        return null;
      }
      return System.nanoTime() - changedAt[0] >= 3_000_000_000L && live.size() == 2 ? live : null;
    }, java.util.Objects::nonNull);
  }

  private static int format(LocalCluster lc, String id) {
    return lc.client(id).get("/api/v1/cluster").path("format").path("cluster").asInt(-1);
  }

  private static List<String> kinds(LocalCluster lc, String kind) {
    List<String> out = new ArrayList<>();
    for (JsonNode e : lc.client("s2").get("/api/v1/events?limit=1000")) {
      if (kind.equals(e.path("kind").asText())) out.add(e.path("message").asText());
    }
    return out;
  }
}
