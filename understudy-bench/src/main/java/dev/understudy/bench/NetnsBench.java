package dev.understudy.bench;

import dev.understudy.testing.NetLab;
import dev.understudy.cli.LocalCluster;
import dev.understudy.cli.HelloService;
import dev.understudy.store.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Failover over the same veth links for keepalived and for Understudy, measured by the same client: kill -9 of every
 * process of the serving node and its link down (a server dying), until the first answer from the other node.
 *
 * <p>Runs inside the lab's client namespace (started there by {@link Bench}), so it reaches every node and nothing
 * else. keepalived moves a virtual address between two nodes that both run the service, as operators deploy it;
 * Understudy starts the service on the backup and forwards the cluster port of a third agent to it.
 */
public final class NetnsBench {
  static final List<String> NODES = List.of("a", "b", "w", "c");
  static final String VIP = NetLab.SUBNET + "100";
  private static final int SERVICE_PORT = 8080;
  private final NetLab lab;
  private final Path dir;
  private final List<Process> started = new ArrayList<>();
  private int keepalivedRuns;

  private NetnsBench(NetLab lab, Path dir) {
    this.lab = lab;
    this.dir = dir;
  }

  /** {@code args}: lab prefix, trials, output JSON path, Understudy's base port. */
  public static void main(String[] args) throws Exception {
    NetLab lab = NetLab.attach(args[0], NODES);
    int trials = Integer.parseInt(args[1]);
    Path out = Path.of(args[2]);
    int basePort = Integer.parseInt(args[3]);
    NetnsBench b = new NetnsBench(lab, Files.createTempDirectory("understudy-netns-"));
    Map<String, Object> results = new LinkedHashMap<>();
    try {
      results.put("keepalivedDefault", b.keepalived(trials, "1", false));
      results.put("keepalivedFastest", b.keepalived(trials, "0.01", true));
      results.put("understudyDefault", b.understudy(trials, "default", basePort));
      results.put("understudyFast", b.understudy(trials, "fast", basePort + 10));
    } finally {
      b.stopAll();
    }
    Files.writeString(out, Json.MAPPER.writeValueAsString(results));
    System.exit(0); // Ratis and HTTP client threads are not ours to wait for
  }

  // ---- keepalived -------------------------------------------------------------------------------------------------

  private Map<String, Object> keepalived(int trials, String advertInt, boolean v3) throws Exception {
    String label = "keepalived, advert_int " + advertInt + " s" + (v3 ? " (VRRPv3)" : "");
    System.out.println("  " + label + ": MASTER a, BACKUP b, the service running on both, clients use " + VIP);
    Stats s = new Stats();
    startService("a");
    startService("b");
    startKeepalived("b", "BACKUP", 100, advertInt, v3);
    startKeepalived("a", "MASTER", 150, advertInt, v3);
    // let the BACKUP hear adverts for a full master-down interval first: killed sooner, a BACKUP still running its
    // start-up timer takes over early and flatters keepalived (a single trial measured 0.75 s instead of 3.3 s)
    Thread.sleep((long) (Double.parseDouble(advertInt) * 4000) + 1000);
    try {
      for (int i = 0; i < trials; i++) {
        trial(i, s, VIP, SERVICE_PORT, "from a", "from b");
        // a rebooted server has no virtual address until its keepalived claims it
        try {
          NetLab.run("ip", "-n", lab.ns("a"), "addr", "del", VIP + "/24", "dev", "eth0");
        } catch (IOException ignored) {
          // kill -9 left none
        }
        lab.link("a", true);
        startService("a");
        startKeepalived("a", "MASTER", 150, advertInt, v3);
      }
    } finally {
      stopAll();
      lab.killAll("a");
      lab.killAll("b");
    }
    System.out.println("    " + label + ": " + s.line("ms"));
    Map<String, Object> m = new LinkedHashMap<>(s.summary());
    m.put("advertInt", advertInt);
    m.put("samples", s.values());
    return m;
  }

  private void startService(String node) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(lab.in(node, HelloService.argv(false)));
    pb.environment().put("UNDERSTUDY_ADDRESS", "0.0.0.0");
    pb.environment().put("UNDERSTUDY_PORT", String.valueOf(SERVICE_PORT));
    pb.environment().put("UNDERSTUDY_SERVER", node);
    pb.redirectErrorStream(true).redirectOutput(dir.resolve("service-" + node + ".log").toFile());
    started.add(pb.start());
  }

  private void startKeepalived(String node, String state, int priority, String advertInt, boolean v3) throws IOException {
    Path conf = dir.resolve("keepalived-" + node + ".conf");
    Files.writeString(conf, "global_defs {\n  router_id " + node + "\n" + (v3 ? "  vrrp_version 3\n" : "")
        + "  script_user root\n  enable_script_security\n}\n"
        + "vrrp_instance VI_1 {\n  state " + state + "\n  interface eth0\n  virtual_router_id 51\n  priority " + priority
        + "\n  advert_int " + advertInt + "\n  virtual_ipaddress {\n    " + VIP + "/24 dev eth0\n  }\n}\n");
    // pid files of its own for every start: keepalived refuses to start beside a pid file that names a live process
    int run = ++keepalivedRuns;
    List<String> cmd = List.of("keepalived", "--dont-fork", "--log-console", "--vrrp", "--no-syslog", "-f", conf.toString(),
        "-p", dir.resolve("k-" + node + run + ".pid").toString(), "-r", dir.resolve("kv-" + node + run + ".pid").toString());
    ProcessBuilder pb = new ProcessBuilder(lab.in(node, cmd));
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("keepalived-" + node + ".log").toFile()));
    started.add(pb.start());
  }

  // ---- Understudy -------------------------------------------------------------------------------------------------

  private Map<String, Object> understudy(int trials, String profile, int basePort) throws Exception {
    System.out.println("  Understudy, " + profile + " profile: agents s1 on a, s2 on b, s3 on w; clients use s3's cluster port");
    List<LocalCluster.Placement> placements = List.of(
        new LocalCluster.Placement(lab.address("a"), lab.ns("a")),
        new LocalCluster.Placement(lab.address("b"), lab.ns("b")),
        new LocalCluster.Placement(lab.address("w"), lab.ns("w")));
    LocalCluster lc = LocalCluster.up(dir.resolve("cluster-" + profile), placements, basePort, Map.of("profile", profile));
    Stats s = new Stats();
    try {
      int clusterPort = 9100;
      lc.client("s3").post("/api/v1/apps", Map.of("tag", "svc", "command", Map.of("argv", HelloService.argv(false)),
          "primary", "s1", "backups", List.of("s2"), "autoFailback", true,
          "service", Map.of("clusterPort", clusterPort, "appPort", 9101)));
      String w = lab.address("w");
      for (int i = 0; i < trials; i++) {
        trial(i, s, w, clusterPort, "from s1", "from s2");
        lab.link("a", true);
        lc.start("s1");
      }
    } finally {
      lc.down();
    }
    System.out.println("    Understudy " + profile + ": " + s.line("ms"));
    Map<String, Object> m = new LinkedHashMap<>(s.summary());
    m.put("profile", profile);
    m.put("samples", s.values());
    return m;
  }

  // ---- the same fault and the same client for both ----------------------------------------------------------------

  /** Node a serves (answers contain {@code before}); it dies; time until the answer contains {@code after}. */
  private void trial(int i, Stats s, String host, int port, String before, String after) throws Exception {
    awaitAnswer(host, port, before, 90_000);
    Thread.sleep(300);
    long killed = System.nanoTime();
    dies("a");
    long back = awaitAnswer(host, port, after, 60_000);
    s.add((back - killed) / 1e6);
    System.out.printf("    trial %2d: %6.0f ms%n", i + 1, (back - killed) / 1e6);
  }

  /** The server of node dies: every process in it is killed with SIGKILL and its link goes down. */
  private void dies(String node) throws IOException {
    lab.killAll(node);
    lab.link(node, false);
  }

  /** Asks until an answer contains {@code expect}; returns the time of that answer. */
  static long awaitAnswer(String host, int port, String expect, long timeoutMs) throws InterruptedException {
    long t0 = System.nanoTime();
    while ((System.nanoTime() - t0) / 1_000_000 < timeoutMs) {
      String r = get(host, port);
      if (r != null && r.contains(expect)) return System.nanoTime();
      Thread.sleep(5);
    }
    throw new IllegalStateException("no answer containing '" + expect + "' from " + host + ":" + port + " in " + timeoutMs + " ms");
  }

  /** One HTTP/1.0 request on a new connection (no pooled connection to a dead server), short timeouts. */
  static String get(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 200);
      s.setSoTimeout(300);
      OutputStream o = s.getOutputStream();
      o.write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      o.flush();
      InputStream in = s.getInputStream();
      String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return all.startsWith("HTTP/1.") && all.contains(" 200 ") ? all : null;
    } catch (IOException e) {
      return null;
    }
  }

  private void stopAll() {
    for (Process p : started) p.destroyForcibly();
    started.clear();
  }
}
