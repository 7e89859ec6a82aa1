package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.understudy.agent.AgentConfig;
import dev.understudy.detect.HeartbeatPacket;
import dev.understudy.testing.Ports;
import dev.understudy.testing.RaftIntruder;
import java.io.ByteArrayInputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The cluster fails over while it is attacked (#21): token-less, wrong-token, chunked, oversized and NUL-bearing API
 * requests to the survivors, a flood of junk and of forged heartbeats and renewal requests in the dead host's name
 * from its own address, and a Raft client without a certificate. The host is killed -9 meanwhile: its app comes up on
 * the backup as it would on a quiet network, and nothing the attacker sent is in the database.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UnderAttackTest {
  static Path dir = Path.of("target", "underattack-" + System.nanoTime()).toAbsolutePath();
  LocalCluster lc;
  final AtomicBoolean attacking = new AtomicBoolean(true);
  final Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
  final AtomicInteger packets = new AtomicInteger();
  final List<Thread> attackers = new ArrayList<>();
  int clusterPort;

  @BeforeAll
  void up() throws Exception {
    lc = LocalCluster.up(dir.resolve("cluster"), 3, Ports.free("127.0.0.11"), null, false, null);
    lc.client("s1").post("/api/v1/apps", Map.of("tag", "web", "command", Map.of("argv", List.of("sleep", "600")),
        "primary", "s1", "backups", List.of("s2")));
    clusterPort = Ports.free("127.0.0.13");
    lc.client("s1").post("/api/v1/apps", Map.of("tag", "svc", "command", Map.of("argv", HelloService.argv(false)),
        "primary", "s1", "backups", List.of("s2"), "service", Map.of("clusterPort", clusterPort, "appPort", Ports.free("127.0.0.11"))));
    for (String tag : List.of("web", "svc")) {
      await().atMost(Duration.ofSeconds(30)).until(() -> "RUNNING".equals(lc.client("s2").get("/api/v1/apps/" + tag).path("state").asText()));
    }
  }

  /**
   * #21: a forwarded connection held two 256 KiB direct buffers from its accept; some 480 idle connections to any
   * agent's cluster port spent its direct memory, and the error killed its forwarder (or, since agents exit on
   * running out of memory, the agent). 1,000 idle connections to s3 now cost it nothing it cannot afford.
   */
  @Test
  @Order(1)
  void idleConnectionsToAClusterPortNeitherStopForwardingNorKillTheAgent() throws Exception {
    String url = "http://127.0.0.13:" + clusterPort + "/";
    await().atMost(Duration.ofSeconds(30)).until(() -> String.valueOf(dev.understudy.testing.Http.get(url)).contains("hello from s1"));
    List<java.net.Socket> idle = new ArrayList<>();
    try {
      for (int i = 0; i < 1000; i++) {
        java.net.Socket s = new java.net.Socket();
        s.connect(new InetSocketAddress("127.0.0.13", clusterPort), 2000);
        idle.add(s);
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> String.valueOf(dev.understudy.testing.Http.get(url)).contains("hello from s1"));
      assertThat(lc.running("s3")).as("s3's agent is alive").isTrue();
      assertThat(lc.client("s3").get("/healthz").path("ok").asBoolean()).isTrue();
    } finally {
      for (java.net.Socket s : idle) s.close();
    }
  }

  @AfterAll
  void down() throws Exception {
    attacking.set(false);
    for (Thread t : attackers) t.join(5_000);
    if (lc != null) lc.down();
  }

  @Test
  @Order(2)
  void theAppFailsOverWhileTheClusterIsAttacked() throws Exception {
    attackers.add(attacker(this::attackApi));
    attackers.add(attacker(this::floodHeartbeats));
    await().atMost(Duration.ofSeconds(10)).until(() -> packets.get() > 10_000 && statuses.values().stream().mapToInt(AtomicInteger::get).sum() > 50);

    lc.kill("s1");
    long t0 = System.nanoTime();
    Map<String, Object> raft = new LinkedHashMap<>();
    for (String id : lc.ids()) raft.put(id, lc.config(id).address() + ":" + lc.config(id).raftPort());
    try (RaftIntruder intruder = new RaftIntruder("local", stringMap(raft), null)) {
      assertThat(intruder.write("apps/evil", "{\"tag\":\"evil\"}")).as("a Raft write without a certificate").isFalse();
    }
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
      var web = lc.client("s2").get("/api/v1/apps/web");
      return "s2".equals(web.path("host").asText()) && "RUNNING".equals(web.path("state").asText());
    });
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("failover under attack: " + ms + " ms; API answers " + statuses + "; " + packets.get() + " hostile packets");
    attacking.set(false);

    var apps = lc.client("s3").get("/api/v1/apps");
    assertThat(apps).hasSize(2);
    assertThat(apps.toString()).contains("web").contains("svc").doesNotContain("evil");
    assertThat(statuses.keySet()).as("no hostile request succeeded or broke an agent").allMatch(s -> s >= 400 && s < 500);
    assertThat(lc.client("s2").get("/healthz").path("ok").asBoolean()).isTrue();
  }

  private static Thread attacker(Runnable r) {
    Thread t = new Thread(r, "attacker");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static Map<String, String> stringMap(Map<String, Object> m) {
    Map<String, String> out = new LinkedHashMap<>();
    m.forEach((k, v) -> out.put(k, String.valueOf(v)));
    return out;
  }

  /** Requests no credential allows, at the survivors' APIs, as fast as one thread can send them. */
  private void attackApi() {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    String evil = "{\"tag\":\"evil\",\"command\":{\"argv\":[\"sh\",\"-c\",\"touch /tmp/pwned\"]},\"primary\":\"s2\",\"backups\":[\"s3\"]}";
    byte[] huge = new byte[2_000_000];
    java.util.Arrays.fill(huge, (byte) 'a');
    List<HttpRequest.Builder> kinds = new ArrayList<>();
    for (String id : List.of("s2", "s3")) {
      String base = lc.apiUrl(id);
      kinds.add(HttpRequest.newBuilder(URI.create(base + "/api/v1/apps")).POST(HttpRequest.BodyPublishers.ofString(evil)));
      kinds.add(HttpRequest.newBuilder(URI.create(base + "/api/v1/apps")).header("Authorization", "Bearer wrong-token-0123456789")
          .POST(HttpRequest.BodyPublishers.ofString(evil)));
      kinds.add(HttpRequest.newBuilder(URI.create(base + "/api/v1/apps")).header("Content-Type", "text/plain")
          .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(evil.getBytes(StandardCharsets.UTF_8)))));
      kinds.add(HttpRequest.newBuilder(URI.create(base + "/api/v1/client/register")).POST(HttpRequest.BodyPublishers.ofByteArray(huge)));
      kinds.add(HttpRequest.newBuilder(URI.create(base + "/api/v1/apps/we%00b/move")).POST(HttpRequest.BodyPublishers.noBody()));
      kinds.add(HttpRequest.newBuilder(URI.create(base + "/api/v1/servers")).POST(HttpRequest.BodyPublishers.ofString(
          "{\"id\":\"s9\",\"address\":\"127.0.0.19\"}")));
      kinds.add(HttpRequest.newBuilder(URI.create(base + "/api/v1/debug/faults")).POST(HttpRequest.BodyPublishers.ofString("{}")));
    }
    Random rnd = new Random(21);
    while (attacking.get()) {
      try {
        HttpRequest.Builder b = kinds.get(rnd.nextInt(kinds.size()));
        HttpRequest req = b.copy().timeout(Duration.ofSeconds(3)).build();
        int status = http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
        statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
      } catch (java.io.IOException e) {
        // a connection closed on an oversized or unfinished body: the agent's answer to it
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /**
   * Junk from elsewhere, and packets in the dead host's name from its own address: acks and renewal requests signed
   * with a wrong key. Believed, they would keep s1 alive in its peers' eyes and its lease renewed.
   */
  private void floodHeartbeats() {
    byte[] wrongKey = "not-the-cluster-secret-0123".getBytes(StandardCharsets.UTF_8);
    try (DatagramSocket asS1 = new DatagramSocket(new InetSocketAddress(lc.config("s1").address(), 0));
         DatagramSocket stranger = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      List<InetSocketAddress> targets = new ArrayList<>();
      for (String id : List.of("s2", "s3")) {
        AgentConfig c = lc.config(id);
        targets.add(new InetSocketAddress(c.address(), c.heartbeatPort()));
      }
      Random rnd = new Random(7);
      byte[] junk = new byte[200];
      long seq = 1;
      while (attacking.get()) {
        for (InetSocketAddress to : targets) {
          rnd.nextBytes(junk);
          stranger.send(new DatagramPacket(junk, junk.length, to));
          byte[] ack = new HeartbeatPacket(true, "s1", Long.MAX_VALUE, seq++, 1).encode(wrongKey);
          asS1.send(new DatagramPacket(ack, ack.length, to));
          byte[] renew = new HeartbeatPacket(HeartbeatPacket.Type.RENEW, "s1", Long.MAX_VALUE, seq++, 0,
              new HeartbeatPacket.Renewal(1, seq, 0)).encode(wrongKey);
          asS1.send(new DatagramPacket(renew, renew.length, to));
          packets.addAndGet(3);
        }
        Thread.sleep(1); // some 5,000 packets a second: a flood, without starving the agents of a 2-core machine
      }
    } catch (Exception e) {
      if (attacking.get()) throw new IllegalStateException(e);
    }
  }
}
