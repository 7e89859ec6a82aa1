package dev.understudy.bench;

import dev.understudy.testing.NetLab;
import dev.understudy.route.Forwarder;
import dev.understudy.route.KernelRoutes;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Forwarding: added latency (1-byte ping-pong) and 64 KiB transfer throughput, forwarded vs direct, on loopback. User
 * space here; kernel forwarding (nftables) in a network namespace of its own ({@link #kernel}), never on the machine's
 * own tables.
 */
public final class ForwardBench {
  private ForwardBench() {}

  private static ServerSocket echo(String address) throws IOException {
    ServerSocket echo = new ServerSocket(0, 100, InetAddress.getByName(address));
    Thread t = new Thread(() -> {
      while (!echo.isClosed()) {
        try {
          Socket s = echo.accept();
          s.setTcpNoDelay(true);
          Thread w = new Thread(() -> {
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
              byte[] buf = new byte[64 * 1024];
              int n;
              while ((n = in.read(buf)) > 0) out.write(buf, 0, n);
            } catch (IOException ignored) {
              // done
            }
          });
          w.setDaemon(true);
          w.start();
        } catch (IOException e) {
          return;
        }
      }
    });
    t.setDaemon(true);
    t.start();
    return echo;
  }

  static Map<String, Object> run(int pings, int transfers) throws Exception {
    ServerSocket echo = echo("127.0.0.42");
    InetSocketAddress direct = new InetSocketAddress("127.0.0.42", echo.getLocalPort());
    int clusterPort = CasBench.freePort("127.0.0.41");
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (Forwarder f = new Forwarder("127.0.0.41", Forwarder.Limits.defaults());
        ReferenceRelay relay = new ReferenceRelay("127.0.0.43", direct)) {
      f.update(List.of(new Forwarder.Route("bench", clusterPort, Optional.of(direct))));
      Thread.sleep(300);
      InetSocketAddress fwd = new InetSocketAddress("127.0.0.41", clusterPort);
      Stats dLat = pingPong(direct, pings);
      Stats fLat = pingPong(fwd, pings);
      // alternating rounds, median of each: one short round of each swung between 58% and 79% on a shared 2-core machine
      Stats ds = new Stats();
      Stats fs = new Stats();
      Stats rs = new Stats();
      long cpu = 0;
      for (int round = 0; round < 5; round++) {
        ds.add(throughput(direct, transfers));
        long c0 = threads.getThreadCpuTime(f.threadId());
        fs.add(throughput(fwd, transfers));
        cpu += threads.getThreadCpuTime(f.threadId()) - c0;
        rs.add(throughput(relay.address(), transfers));
      }
      double dTput = ds.percentile(50);
      double fTput = fs.percentile(50);
      double rTput = rs.percentile(50);
      // the forwarder moved every byte of every round twice (there and back)
      double cpuPerGb = cpu / 1e9 / (5 * 2.0 * transfers * 64 * 1024 / 1e9);
      double added = (fLat.percentile(50) - dLat.percentile(50)) * 1000;
      System.out.printf("  round trip direct:    %s%n", dLat.line("ms"));
      System.out.printf("  round trip forwarded: %s%n", fLat.line("ms"));
      System.out.printf("  added p50 latency: %.0f us%n", added);
      System.out.printf("  64 KiB echo throughput: direct %.0f MB/s, forwarded %.0f MB/s (%.0f%% of direct)%n",
          dTput, fTput, 100 * fTput / dTput);
      System.out.printf("  reference relay (a blocking thread per direction): %.0f MB/s (%.0f%% of direct)%n",
          rTput, 100 * rTput / dTput);
      System.out.printf("  forwarder thread CPU per GB moved: %.2f s%n", cpuPerGb);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("directRoundTripMs", dLat.summary());
      m.put("forwardedRoundTripMs", fLat.summary());
      m.put("addedP50Micros", added);
      m.put("directMBps", dTput);
      m.put("forwardedMBps", fTput);
      m.put("forwardedPercentOfDirect", 100 * fTput / dTput);
      m.put("referenceRelayMBps", rTput);
      m.put("referenceRelayPercentOfDirect", 100 * rTput / dTput);
      m.put("forwarderCpuSecondsPerGb", cpuPerGb);
      return m;
    } finally {
      echo.close();
    }
  }

  /**
   * Kernel forwarding: the same measurements through an agent's nftables routes, run by a JVM inside a network
   * namespace made for it (its loopback only). Empty, with the reason printed, where one cannot be made.
   */
  static Map<String, Object> kernel(int pings, int transfers) throws Exception {
    Map<String, Object> m = new LinkedHashMap<>();
    Optional<String> why = NetLab.unavailable();
    if (why.isEmpty() && KernelRoutes.nft().isEmpty()) why = Optional.of("nftables' nft command is not installed");
    if (why.isPresent()) {
      System.out.println("  kernel forwarding: skipped (" + why.get() + ")");
      m.put("skipped", why.get());
      return m;
    }
    try (NetLab lab = NetLab.create(List.of("fwd"))) {
      String java = ProcessHandle.current().info().command().orElse("java");
      Process p = new ProcessBuilder(lab.in("fwd", List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
          ForwardBench.class.getName(), String.valueOf(pings), String.valueOf(transfers))))
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) throw new IOException("the kernel forwarding benchmark failed:\n" + out);
      for (String line : out.lines().toList()) {
        if (line.startsWith("  ")) System.out.println(line);
        if (line.startsWith("RESULT ")) {
          String[] f = line.split(" ");
          m.put("directMBps", Double.parseDouble(f[1]));
          m.put("kernelMBps", Double.parseDouble(f[2]));
          m.put("kernelPercentOfDirect", Double.parseDouble(f[3]));
          m.put("addedP50Micros", Double.parseDouble(f[4]));
        }
      }
      if (!m.containsKey("kernelMBps")) throw new IOException("no result from the kernel forwarding benchmark:\n" + out);
    }
    return m;
  }

  /** Inside the benchmark's namespace: direct vs through kernel routes (and the Forwarder behind them). */
  public static void main(String[] args) throws Exception {
    int pings = Integer.parseInt(args[0]);
    int transfers = Integer.parseInt(args[1]);
    ServerSocket echo = echo("127.0.0.42");
    InetSocketAddress direct = new InetSocketAddress("127.0.0.42", echo.getLocalPort());
    int clusterPort = CasBench.freePort("127.0.0.41");
    List<Forwarder.Route> routes = List.of(new Forwarder.Route("bench", clusterPort, Optional.of(direct)));
    try (Forwarder f = new Forwarder("127.0.0.41", Forwarder.Limits.defaults());
        KernelRoutes k = KernelRoutes.open("127.0.0.41", Forwarder.Limits.defaults())) {
      f.update(routes);
      k.update(routes);
      for (int i = 0; i < 500 && k.applied() == 0; i++) Thread.sleep(10);
      if (k.applied() == 0 || k.errors() > 0) throw new IOException("the kernel routes were not applied");
      InetSocketAddress fwd = new InetSocketAddress("127.0.0.41", clusterPort);
      Stats dLat = pingPong(direct, pings);
      Stats kLat = pingPong(fwd, pings);
      Stats ds = new Stats();
      Stats ks = new Stats();
      for (int round = 0; round < 5; round++) {
        ds.add(throughput(direct, transfers));
        ks.add(throughput(fwd, transfers));
      }
      if (f.forwardedConnections() != 0) throw new IOException("connections went through user space, not the kernel");
      double added = (kLat.percentile(50) - dLat.percentile(50)) * 1000;
      double d = ds.percentile(50);
      double kt = ks.percentile(50);
      System.out.printf("  kernel forwarding (nftables, in a namespace): round trip %s%n", kLat.line("ms"));
      System.out.printf("  kernel forwarding: added p50 latency %.0f us; 64 KiB echo direct %.0f MB/s, kernel %.0f MB/s"
          + " (%.0f%% of direct)%n", added, d, kt, 100 * kt / d);
      System.out.printf(java.util.Locale.ROOT, "RESULT %.1f %.1f %.1f %.1f%n", d, kt, 100 * kt / d, added);
    } finally {
      echo.close();
    }
  }

  private static Stats pingPong(InetSocketAddress to, int n) throws IOException {
    Stats s = new Stats();
    try (Socket c = new Socket()) {
      c.setTcpNoDelay(true);
      c.connect(to);
      OutputStream out = c.getOutputStream();
      InputStream in = c.getInputStream();
      for (int i = 0; i < n + 200; i++) {
        long t = System.nanoTime();
        out.write(1);
        if (in.read() < 0) throw new IOException("closed");
        if (i >= 200) s.add((System.nanoTime() - t) / 1e6); // first 200: warm-up
      }
    }
    return s;
  }

  /** MB/s echoing {@code n} 64 KiB transfers (writer and reader on separate threads). */
  private static double throughput(InetSocketAddress to, int n) throws Exception {
    byte[] chunk = new byte[64 * 1024];
    try (Socket c = new Socket()) {
      c.connect(to);
      Thread writer = new Thread(() -> {
        try {
          OutputStream out = c.getOutputStream();
          for (int i = 0; i < n; i++) out.write(chunk);
          out.flush();
        } catch (IOException ignored) {
          // reader reports
        }
      });
      long t0 = System.nanoTime();
      writer.start();
      DataInputStream in = new DataInputStream(c.getInputStream());
      byte[] buf = new byte[64 * 1024];
      long total = (long) n * chunk.length;
      long got = 0;
      while (got < total) {
        int r = in.read(buf);
        if (r < 0) throw new IOException("closed after " + got);
        got += r;
      }
      writer.join();
      return total / 1e6 / ((System.nanoTime() - t0) / 1e9);
    }
  }
}
