package dev.understudy.bench;

import dev.understudy.route.Forwarder;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Forwarding: added latency (1-byte ping-pong) and 64 KiB transfer throughput, forwarded vs direct, on loopback. */
final class ForwardBench {
  static Map<String, Object> run(int pings, int transfers) throws Exception {
    ServerSocket echo = new ServerSocket(0, 100, InetAddress.getByName("127.0.0.42"));
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
