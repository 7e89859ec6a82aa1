package dev.understudy.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.cli.CliException;
import dev.understudy.cli.Client;
import dev.understudy.cli.LocalCluster;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The sample aware counter under three real agents: kill -9 of its host and an automatic failback. The work log shows
 * no item lost, and no item done twice except the one in progress when its host was killed (one marker interval).
 */
class AwareCounterTest {
  record Item(long n, String server, long epoch, long nanos) {}

  static int freePort(String host) throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
      return s.getLocalPort();
    }
  }

  static List<Item> items(Path log) throws IOException {
    List<Item> out = new ArrayList<>();
    if (!Files.exists(log)) return out;
    for (String line : Files.readAllLines(log)) {
      String[] f = line.split(" ");
      if (f.length == 5) out.add(new Item(Long.parseLong(f[1]), f[2], Long.parseLong(f[3]), Long.parseLong(f[4])));
    }
    return out;
  }

  static boolean progressOn(Path log, String server, long epoch) throws IOException {
    return items(log).stream().filter(i -> i.server().equals(server) && i.epoch() == epoch).count() >= 5;
  }

  @Test
  void failoverAndFailbackLoseNoWork() throws Exception {
    Path dir = Path.of("target/aware-" + System.nanoTime()).toAbsolutePath();
    Files.createDirectories(dir);
    Path work = dir.resolve("work.log");
    LocalCluster lc = LocalCluster.up(dir.resolve("cluster"), 3, freePort("127.0.0.11"), null, false, null);
    try {
      String java = ProcessHandle.current().info().command().orElse("java");
      lc.client("s1").post("/api/v1/apps", Map.of("tag", "counter", "type", "AWARE",
          "command", Map.of("argv", List.of(java, "-Xmx32m", "-cp", System.getProperty("java.class.path"), Counter.class.getName()),
              "env", Map.of("WORK_LOG", work.toString(), "STEP_MS", "50"), "stopTimeoutMs", 5000),
          "primary", "s1", "backups", List.of("s2"), "autoFailback", true,
          "service", Map.of("clusterPort", freePort("127.0.0.13"), "appPort", freePort("127.0.0.11"))));
      await().atMost(Duration.ofSeconds(30)).until(() -> progressOn(work, "s1", 1));

      // awaitHost blocks on a server that is not the host
      long t0 = System.nanoTime();
      JsonNode h = lc.client("s2").get("/api/v1/client/counter/host?waitMs=700");
      assertThat(h.path("host").asBoolean()).isFalse();
      assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(600);

      lc.kill("s1");
      await().atMost(Duration.ofSeconds(30)).until(() -> progressOn(work, "s2", 2));

      // a stale instance's marker write is refused
      Client c = lc.client("s2");
      assertThat(put(lc, "s2", "/api/v1/client/counter/marker?epoch=1")).isEqualTo(409);

      lc.start("s1");
      await().atMost(Duration.ofSeconds(40)).until(() -> progressOn(work, "s1", 3));
      lc.client("s1").delete("/api/v1/apps/counter");
      Thread.sleep(1000);

      List<Item> all = items(work);
      TreeMap<Long, List<Item>> byItem = new TreeMap<>();
      for (Item i : all) byItem.computeIfAbsent(i.n(), k -> new ArrayList<>()).add(i);
      long first = byItem.firstKey();
      long last = byItem.lastKey();
      assertThat(first).isZero();
      for (long n = first; n <= last; n++) assertThat(byItem).as("item %d is missing: work lost", n).containsKey(n);
      List<Long> twice = byItem.entrySet().stream().filter(e -> e.getValue().size() > 1).map(Map.Entry::getKey).toList();
      assertThat(twice).as("only the item in progress at the kill may be done again; none at the graceful failback")
          .hasSizeLessThanOrEqualTo(1);
      for (long n : twice) {
        List<Item> dup = byItem.get(n);
        assertThat(dup.get(0).server()).isEqualTo("s1");
        assertThat(dup.get(1).server()).isEqualTo("s2");
      }
      // the instances never overlapped: every s2 item comes after every s1 epoch-1 item, and before s1 epoch 3's
      long lastE1 = all.stream().filter(i -> i.epoch() == 1).mapToLong(Item::nanos).max().orElseThrow();
      long firstE2 = all.stream().filter(i -> i.epoch() == 2).mapToLong(Item::nanos).min().orElseThrow();
      long lastE2 = all.stream().filter(i -> i.epoch() == 2).mapToLong(Item::nanos).max().orElseThrow();
      long firstE3 = all.stream().filter(i -> i.epoch() == 3).mapToLong(Item::nanos).min().orElseThrow();
      assertThat(firstE2).isGreaterThan(lastE1);
      assertThat(firstE3).isGreaterThan(lastE2);
    } finally {
      lc.down();
    }
  }

  /** Warm standby: the counter runs pre-started and paused on the next host, so failover and failback only release it. */
  @Test
  void warmStandbyMakesFailoverAndFailbackARelease() throws Exception {
    Path dir = Path.of("target/warm-" + System.nanoTime()).toAbsolutePath();
    Files.createDirectories(dir);
    Path work = dir.resolve("work.log");
    LocalCluster lc = LocalCluster.up(dir.resolve("cluster"), 3, freePort("127.0.0.11"), null, false, null);
    try {
      String java = ProcessHandle.current().info().command().orElse("java");
      lc.client("s1").post("/api/v1/apps", Map.of("tag", "warm", "type", "AWARE",
          "command", Map.of("argv", List.of(java, "-Xmx32m", "-cp", System.getProperty("java.class.path"), Counter.class.getName()),
              "env", Map.of("WORK_LOG", work.toString(), "STEP_MS", "50"), "stopTimeoutMs", 5000),
          "primary", "s1", "backups", List.of("s2"), "autoFailback", true,
          "attributes", Map.of("understudy.warmStandby", "true")));
      await().atMost(Duration.ofSeconds(30)).until(() -> progressOn(work, "s1", 1));
      Path standbyLog = dir.resolve("cluster/s2/data/logs/warm.log");
      await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(standbyLog)
          && Files.readString(standbyLog).contains("paused until this server is the host"));

      lc.kill("s1");
      await().atMost(Duration.ofSeconds(30)).until(() -> progressOn(work, "s2", 2));
      lc.start("s1");
      await().atMost(Duration.ofSeconds(40)).until(() -> progressOn(work, "s1", 3));
      lc.client("s1").delete("/api/v1/apps/warm");
      Thread.sleep(500);

      List<Item> all = items(work);
      long lastE2 = all.stream().filter(i -> i.epoch() == 2).mapToLong(Item::nanos).max().orElseThrow();
      long firstE3 = all.stream().filter(i -> i.epoch() == 3).mapToLong(Item::nanos).min().orElseThrow();
      long gapMs = (firstE3 - lastE2) / 1_000_000;
      System.out.println("warm-standby failback: work paused " + gapMs + " ms");
      assertThat(firstE3).as("never two hosts at once").isGreaterThan(lastE2);
      assertThat(gapMs).as("a failback that only releases a paused instance").isLessThan(3000);
      TreeMap<Long, List<Item>> byItem = new TreeMap<>();
      for (Item i : all) byItem.computeIfAbsent(i.n(), k -> new ArrayList<>()).add(i);
      for (long n = byItem.firstKey(); n <= byItem.lastKey(); n++) assertThat(byItem).as("item %d lost", n).containsKey(n);
      String s2log = Files.readString(standbyLog);
      assertThat(s2log).contains("is host at epoch 2");
    } finally {
      lc.down();
    }
  }

  static int put(LocalCluster lc, String id, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(lc.apiUrl(id) + path))
        .header("Authorization", "Bearer " + lc.token()).PUT(HttpRequest.BodyPublishers.ofByteArray(new byte[8])).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.statusCode();
  }
}
