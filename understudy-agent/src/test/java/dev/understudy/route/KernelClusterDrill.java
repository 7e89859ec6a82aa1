package dev.understudy.route;

import static org.awaitility.Awaitility.await;

import dev.understudy.agent.AgentConfig;
import dev.understudy.testing.NetLab;
import dev.understudy.cli.HelloService;
import dev.understudy.cli.LocalCluster;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Real agents with {@code forwarding.mode: kernel}, each in a namespace of {@link KernelClusterTest}'s lab (a, b, c),
 * run from namespace x, a client machine of its own: a client of s2's cluster port reaches the app on s1 through s2's
 * kernel (routed on and source-rewritten: s2's namespace has ip_forward on), not through s2's user space; when s1
 * dies, that connection is reset at its next request and new ones reach the app on s2. Prints "kernel cluster: ...".
 */
public final class KernelClusterDrill {
  static final List<String> NODES = List.of("a", "b", "c", "x");
  static final int API = 7820;
  static final int CLUSTER_PORT = 8080;

  public static void main(String[] args) throws Exception {
    NetLab lab = NetLab.attach(args[0], NODES);
    Path dir = Path.of(args[1]);
    List<LocalCluster.Placement> places = List.of(
        new LocalCluster.Placement(lab.address("a"), lab.ns("a")),
        new LocalCluster.Placement(lab.address("b"), lab.ns("b")),
        new LocalCluster.Placement(lab.address("c"), lab.ns("c")));
    LocalCluster lc = LocalCluster.up(dir.resolve("cluster"), places, API, Map.of(),
        new AgentConfig.ForwardingConfig("kernel", null, null, null));
    int rc = 1;
    try {
      run(lab, lc);
      report("passed");
      rc = 0;
    } catch (Throwable t) {
      report("FAILED: " + t);
      t.printStackTrace(System.out);
    } finally {
      try {
        lc.down();
      } catch (Exception e) {
        System.out.println("cluster down: " + e);
      }
    }
    System.exit(rc);
  }

  private static void run(NetLab lab, LocalCluster lc) throws Exception {
    lc.awaitReady(null, 60_000);
    lc.client("s1").post("/api/v1/apps", Map.of("tag", "web", "command", Map.of("argv", HelloService.argv(false)),
        "primary", "s1", "backups", List.of("s2"), "service", Map.of("clusterPort", CLUSTER_PORT, "appPort", 9080)));
    InetSocketAddress viaS2 = new InetSocketAddress(lab.address("b"), CLUSTER_PORT);
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> get(viaS2).contains("hello from s1"));
    // connections made while the app was starting waited in user space: count from here
    long relayed = forwardedByUserSpace(lab, lc, "b");
    try (HttpConn kept = new HttpConn(viaS2)) {
      check(kept.get().contains("hello from s1"), "a kept-alive connection through s2 reaches s1");
      for (int i = 0; i < 5; i++) check(get(viaS2).contains("hello from s1"), "new connections through s2 reach s1");
      check(forwardedByUserSpace(lab, lc, "b") == relayed, "s2 relayed none of them in user space: its kernel did");
      report("clients of s2's cluster port reach the app on s1 through s2's kernel (user space relayed none of 6)");

      lab.killAll("a"); // s1's agent and app, kill -9
      lab.link("a", false);
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> get(viaS2).contains("hello from s2"));
      check(kept.resetOrClosed(), "the connection to the dead host is reset at its next request");
      check(get(new InetSocketAddress(lab.address("c"), CLUSTER_PORT)).contains("hello from s2"), "s3's cluster port reaches s2");
      report("after kill -9 of s1 new connections reach s2 (through s2 and s3), the old one is reset");
    }
  }

  /** Connections s2's Forwarder (user space) made, from its metrics. */
  private static long forwardedByUserSpace(NetLab lab, LocalCluster lc, String node) throws IOException {
    // off loopback the API is HTTPS with the cluster's certificates
    var c = (javax.net.ssl.HttpsURLConnection) URI.create(lc.apiUrl("s" + (node.charAt(0) - 'a' + 1)) + "/metrics").toURL().openConnection();
    c.setSSLSocketFactory(dev.understudy.client.ClusterTrust.of(lc.caFile()).getSocketFactory());
    c.setRequestProperty("Authorization", "Bearer " + lc.token());
    try (InputStream in = c.getInputStream()) {
      List<String> lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
          .filter(l -> l.startsWith("understudy_forwarded_connections") && !l.startsWith("understudy_forwarded_connections_open"))
          .toList();
      if (lines.isEmpty()) throw new IOException("no understudy_forwarded_connections in " + node + "'s metrics");
      report("s2's metric: " + lines);
      return lines.stream().mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
  }

  private static String get(InetSocketAddress to) throws IOException {
    try (HttpConn c = new HttpConn(to)) {
      return c.get();
    }
  }

  /** One HTTP/1.1 connection, kept alive across requests. */
  static final class HttpConn implements AutoCloseable {
    final Socket s = new Socket();
    final BufferedReader in;

    HttpConn(InetSocketAddress to) throws IOException {
      s.connect(to, 2000);
      s.setSoTimeout(3000);
      in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
    }

    String get() throws IOException {
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: web\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      int length = -1;
      String line;
      while ((line = in.readLine()) != null && !line.isEmpty()) {
        if (line.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
      }
      if (line == null || length < 0) throw new IOException("no response");
      char[] body = new char[length];
      for (int got = 0; got < length; ) {
        int n = in.read(body, got, length - got);
        if (n < 0) throw new IOException("closed mid-body");
        got += n;
      }
      return new String(body);
    }

    boolean resetOrClosed() {
      try {
        get();
        return false;
      } catch (java.net.SocketTimeoutException e) {
        return false; // hanging: what must not happen
      } catch (IOException e) {
        return true;
      }
    }

    @Override
    public void close() throws IOException { s.close(); }
  }

  private static void report(String line) { System.out.println("kernel cluster: " + line); }

  private static void check(boolean ok, String what) {
    if (!ok) throw new AssertionError(what);
  }
}
