package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.store.Json;
import dev.understudy.testing.Ports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * #23: `snapshot save` then `snapshot restore` into a new cluster brings back every app object, marker and epoch
 * (epochs go on above the saved ones), and the tombstone of a removed app; a cluster with apps refuses a restore.
 */
class SnapshotTest {
  static Path dir = Path.of("target", "snapshot-" + System.nanoTime()).toAbsolutePath();

  static CliRun cli(LocalCluster lc, String... args) throws Exception {
    Path token = Files.writeString(Files.createDirectories(dir).resolve("token-" + lc.dir().getFileName()), lc.token());
    String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args),
        java.util.stream.Stream.of("--agent", lc.apiUrl("s1"), "--token-file", token.toString())).toArray(String[]::new);
    return CliRun.of(all);
  }

  static boolean running(LocalCluster lc, String tag, String host) {
    try {
      JsonNode a = lc.client("s2").get("/api/v1/apps/" + tag);
      return host.equals(a.path("host").asText()) && "RUNNING".equals(a.path("state").asText());
    } catch (CliException e) {
      return false;
    }
  }

  @Test
  void aSnapshotSeedsANewClusterWithEveryAppMarkerAndEpoch() throws Exception {
    Path file = dir.resolve("backup.json");
    long webEpoch;
    LocalCluster a = LocalCluster.up(dir.resolve("a"), 2, Ports.free("127.0.0.11"), null, false, null);
    try {
      for (String tag : List.of("web", "gone")) {
        a.client("s1").post("/api/v1/apps", Map.of("tag", tag, "command", Map.of("argv", List.of("sleep", "100000"),
            "env", Map.of("SECRET", "kept-in-the-backup")), "primary", "s1", "backups", List.of("s2")));
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> running(a, "web", "s1") && running(a, "gone", "s1"));
      webEpoch = a.client("s1").get("/api/v1/apps/web").path("epoch").asLong();
      var http = HttpClient.newHttpClient();
      var saved = http.send(HttpRequest.newBuilder(URI.create(a.apiUrl("s1") + "/api/v1/client/web/marker?epoch=" + webEpoch))
          .header("Authorization", "Bearer " + a.token()).PUT(HttpRequest.BodyPublishers.ofString("checkpoint-42")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(saved.statusCode()).as(saved.body()).isEqualTo(200);
      a.client("s1").delete("/api/v1/apps/gone");
      await().atMost(Duration.ofSeconds(20)).until(() -> a.client("s1").find("/api/v1/apps/gone") == null);

      CliRun s = cli(a, "snapshot", "save", file.toString());
      assertThat(s.exit()).as(s.err()).isZero();
      assertThat(s.out()).contains("saved 1 apps");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    } finally {
      a.down();
    }

    LocalCluster b = LocalCluster.up(dir.resolve("b"), 2, Ports.free("127.0.0.11"), null, false, null);
    try {
      CliRun r = cli(b, "snapshot", "restore", file.toString());
      assertThat(r.exit()).as(r.err()).isZero();
      await().atMost(Duration.ofSeconds(30)).until(() -> running(b, "web", "s1"));
      JsonNode web = b.client("s1").get("/api/v1/apps/web");
      assertThat(web.path("epoch").asLong()).as("a fencing token never repeats").isGreaterThan(webEpoch);
      assertThat(web.path("command").path("env").path("SECRET").asText()).isEqualTo("kept-in-the-backup");
      var marker = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(b.apiUrl("s1") + "/api/v1/client/web/marker"))
          .header("Authorization", "Bearer " + b.token()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(marker.body()).isEqualTo("checkpoint-42");
      b.client("s1").post("/api/v1/apps", Map.of("tag", "gone", "command", Map.of("argv", List.of("sleep", "100000")),
          "primary", "s1", "backups", List.of("s2")));
      assertThat(b.client("s1").get("/api/v1/apps/gone").path("epoch").asLong()).as("the tombstone came back too").isGreaterThan(1);
      CliRun again = cli(b, "snapshot", "restore", file.toString());
      assertThat(again.exit()).isEqualTo(1);
      assertThat(again.err()).contains("has apps already");
      assertThat(Json.MAPPER.readTree(Files.readString(file)).path("format").asText()).isEqualTo("understudy-snapshot/1");
    } finally {
      b.down();
    }
  }

  /**
   * #23, a majority lost for good: s2 and s3 are gone with their disks, s1's agent is stopped. s1's own replica, read
   * offline (snapshot save --from-replica), seeds a new cluster: the app, its latest marker and an epoch above the old.
   */
  @Test
  void aLostMajorityIsRecoveredFromTheSurvivorsReplica() throws Exception {
    Path file = dir.resolve("rescue.json");
    long epoch;
    LocalCluster a = LocalCluster.up(dir.resolve("lost"), 3, Ports.free("127.0.0.11"), null, false, null);
    try {
      a.client("s1").post("/api/v1/apps", Map.of("tag", "db", "command", Map.of("argv", List.of("sleep", "100000")),
          "primary", "s1", "backups", List.of("s2", "s3")));
      await().atMost(Duration.ofSeconds(30)).until(() -> running(a, "db", "s1"));
      epoch = a.client("s1").get("/api/v1/apps/db").path("epoch").asLong();
      var saved = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(a.apiUrl("s1") + "/api/v1/client/db/marker?epoch=" + epoch))
          .header("Authorization", "Bearer " + a.token()).PUT(HttpRequest.BodyPublishers.ofString("last-checkpoint")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(saved.statusCode()).as(saved.body()).isEqualTo(200);
      // The marker is acknowledged once a majority has it, which may be the other two: the survivor must have applied it
      // before they are lost (a write it never received cannot come back from its replica; save --from-replica warns
      // so). Seen in a full verify: the marker missing from the rescued state.
      String leader = a.client("s1").get("/api/v1/cluster").path("leader").asText();
      long committed = a.client(leader).get("/api/v1/cluster").path("replica").path("commitIndex").asLong();
      await().atMost(Duration.ofSeconds(10)).until(() ->
          a.client("s1").get("/api/v1/cluster").path("replica").path("appliedIndex").asLong() >= committed);
      a.kill("s2");
      a.kill("s3");
      a.kill("s1");
      await().atMost(Duration.ofSeconds(30)).until(() -> a.ids().stream().noneMatch(a::running));
      CliRun s = CliRun.of("snapshot", "save", "--from-replica", a.dir().resolve("s1").resolve("agent.yaml").toString(), file.toString());
      assertThat(s.exit()).as(s.err()).isZero();
      assertThat(s.err()).contains("WARNING").contains("NEW cluster");
      assertThat(s.out()).contains("saved 1 apps");
    } finally {
      a.down();
    }
    LocalCluster b = LocalCluster.up(dir.resolve("new"), 3, Ports.free("127.0.0.11"), null, false, null);
    try {
      CliRun r = cli(b, "snapshot", "restore", file.toString());
      assertThat(r.exit()).as(r.err()).isZero();
      await().atMost(Duration.ofSeconds(30)).until(() -> running(b, "db", "s1"));
      assertThat(b.client("s1").get("/api/v1/apps/db").path("epoch").asLong()).isGreaterThan(epoch);
      var marker = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(b.apiUrl("s1") + "/api/v1/client/db/marker"))
          .header("Authorization", "Bearer " + b.token()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(marker.body()).isEqualTo("last-checkpoint");
    } finally {
      b.down();
    }
  }
}
