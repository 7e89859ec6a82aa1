package dev.understudy.route;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;

/**
 * Kernel forwarding against the real kernel, inside a network namespace that {@link KernelRoutesTest} made (its
 * loopback only): an agent address 127.0.0.11 forwards cluster port 8080 to hosts 127.0.0.12 and .13 on port 9080.
 * Each step prints "kernel drill: ..."; a failed check exits 1.
 */
public final class KernelRoutesDrill {
  static final String AGENT = "127.0.0.11";
  static final int PORT = 8080;
  static final int APP_PORT = 9080;
  static final InetSocketAddress H1 = new InetSocketAddress("127.0.0.12", APP_PORT);
  static final InetSocketAddress H2 = new InetSocketAddress("127.0.0.13", APP_PORT);
  static final Forwarder.Limits LIMITS = new Forwarder.Limits(4, Duration.ofSeconds(5), Duration.ofSeconds(2));

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("hold")) {
      hold();
      return;
    }
    try {
      run();
      System.out.println("kernel drill: passed");
      System.exit(0);
    } catch (Throwable t) {
      System.out.println("kernel drill: FAILED: " + t);
      t.printStackTrace(System.out);
      System.exit(1);
    }
  }

  /** A JVM that holds the routes until it is killed (the test kills it with SIGKILL). */
  private static void hold() throws Exception {
    KernelRoutes k = KernelRoutes.open(AGENT, LIMITS);
    k.update(List.of(new Forwarder.Route("app", PORT, Optional.of(H1))));
    await("the holder's route applied", () -> k.applied() >= 1);
    System.out.println("holding");
    System.out.flush();
    new java.util.concurrent.CountDownLatch(1).await(); // until the test kills this JVM with SIGKILL
  }

  private static void run() throws Exception {
    echo(H1);
    echo(H2);
    try (Forwarder user = new Forwarder(AGENT, LIMITS); KernelRoutes kernel = KernelRoutes.open(AGENT, LIMITS)) {
      check(tableExists(kernel.table()), "table " + kernel.table() + " exists");
      route(user, kernel, Optional.of(H1));
      try (Conn a = Conn.open()) {
        check(a.ask("a").equals(H1.getHostString() + ":a"), "a connection reaches the host");
        check(user.forwardedConnections() == 0, "the kernel forwarded it, not user space");
        step("a new connection reaches the host through the kernel, none through user space");

        route(user, kernel, Optional.of(H2));
        check(a.resetAtNextSend(), "the connection to the old host is reset at its next send");
        try (Conn b = Conn.open()) {
          check(b.ask("b").equals(H2.getHostString() + ":b"), "a new connection reaches the new host");
        }
        check(user.forwardedConnections() == 0, "still none through user space");
        step("after a host change the old host's connection is reset and new ones reach the new host");
      }

      route(user, kernel, Optional.empty());
      try (Conn w = Conn.open()) {
        w.send("w");
        check(w.silentFor(Duration.ofMillis(500)), "no answer while no server hosts the app");
        route(user, kernel, Optional.of(H1));
        check(w.read().equals(H1.getHostString() + ":w"), "the waiting connection reaches the host once there is one");
        check(user.forwardedConnections() == 1, "the waiting connection went through user space");
        step("mid-failover a connection waits in user space and reaches the host that comes up");
      }

      List<Conn> open = new ArrayList<>();
      try {
        // the conntrack entries of the connections closed above may still count for a moment: retry until freed
        await("four connections to the app at once", () -> {
          open.forEach(Conn::close);
          open.clear();
          try {
            for (int i = 0; i < LIMITS.maxConnectionsPerApp(); i++) {
              Conn c = Conn.open();
              open.add(c);
              if (!c.ask("l" + i).startsWith(H1.getHostString())) return false;
            }
            return true;
          } catch (IOException e) {
            return false;
          }
        });
        check(refused(), "a fifth connection over the limit of four is refused");
        step("the kernel refuses connections over maxConnectionsPerApp");
      } finally {
        open.forEach(Conn::close);
      }

      if (kernel.enforcesIdleTimeout()) {
        try (Conn idle = openOnceFree("i")) {
          // the protocol bound under test: conntrack forgets the connection after the 2 s idle timeout. Nothing can be
          // polled meanwhile: any packet on the connection would restart its idle time
          Thread.sleep(LIMITS.idleTimeout().toMillis() + 1500);
          check(idle.resetAtNextSend(), "a connection idle past the idle timeout is reset at its next send");
        }
        step("a connection idle longer than idleTimeout is dropped by the kernel");
      } else {
        step("the kernel here has no conntrack timeout policies: idle timeout not checked");
      }
      route(user, kernel, Optional.of(H1));
      try (Conn before = openOnceFree("f")) {
        // nft refuses an IPv6 upstream in the IPv4 table: an update that fails
        long applied = kernel.applied();
        kernel.update(List.of(new Forwarder.Route("app", PORT, Optional.of(new InetSocketAddress("::1", APP_PORT)))));
        await("the bad update tried", () -> kernel.applied() > applied);
        check(kernel.errors() == 1, "the failed update counted");
        check(before.resetAtNextSend(), "after a failed update the kernel's earlier connections are reset");
      }
      route(user, kernel, Optional.of(H1), 1);
      openOnceFree("g").close(); // the next good update works again
      check(user.forwardedConnections() == 1, "all of these through the kernel (the one user-space relay is the waiting one)");
      step("a failed update takes every route out and resets what the kernel had rewritten; the next one works");

      String table = kernel.table();
      kernel.close();
      check(!tableExists(table), "closing removes the table");
      step("closing the routes removes the table");
    }

    // an agent killed with SIGKILL leaves no rule behind: its nft process ends with it, and the kernel drops the table
    String java = ProcessHandle.current().info().command().orElse("java");
    Process holder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), KernelRoutesDrill.class.getName(),
        "hold").redirectErrorStream(true).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null && !line.equals("holding")) System.out.println("  holder: " + line);
    check("holding".equals(line), "the holder JVM installed its routes");
    String table = KernelRoutes.tableName(AGENT);
    check(tableExists(table), "the holder's table exists");
    new ProcessBuilder("kill", "-9", String.valueOf(holder.pid())).start().waitFor();
    holder.waitFor(5, TimeUnit.SECONDS);
    await("the table gone after kill -9 of its JVM", () -> !tableExists(table));
    step("kill -9 of the JVM removes its table (no stale route survives the agent)");
  }

  private static void route(Forwarder user, KernelRoutes kernel, Optional<InetSocketAddress> to) {
    route(user, kernel, to, 0);
  }

  private static void route(Forwarder user, KernelRoutes kernel, Optional<InetSocketAddress> to, long errorsSoFar) {
    List<Forwarder.Route> routes = List.of(new Forwarder.Route("app", PORT, to));
    long before = kernel.applied();
    user.update(routes);
    kernel.update(routes);
    await("routes applied", () -> kernel.applied() > before);
    check(kernel.errors() == errorsSoFar, "nft accepted the routes");
  }

  /**
   * A connection that reached H1 and answered {@code line}. The limit's count (conntrack's) releases closed
   * connections a moment after they close, so a connection can be refused right after the limit was reached: retried.
   */
  private static Conn openOnceFree(String line) {
    Conn[] got = new Conn[1];
    await("a connection to the host answering " + line, () -> {
      Conn c = null;
      try {
        c = Conn.open();
        if (c.ask(line).equals(H1.getHostString() + ":" + line)) {
          got[0] = c;
          return true;
        }
      } catch (IOException e) {
        // refused or reset: try again
      }
      if (c != null) c.close();
      return false;
    });
    return got[0];
  }

  private static boolean refused() {
    try (Conn c = Conn.open()) {
      c.ask("over");
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  static boolean tableExists(String table) {
    try {
      return new ProcessBuilder(KernelRoutes.nft().orElse("nft"), "list", "table", "ip", table).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor() == 0;
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void echo(InetSocketAddress at) throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(at, 100);
    Thread t = new Thread(() -> {
      while (true) {
        try {
          Socket c = s.accept();
          Thread h = new Thread(() -> {
            try (c; BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
                OutputStream o = c.getOutputStream()) {
              String l;
              while ((l = in.readLine()) != null) o.write((at.getHostString() + ":" + l + "\n").getBytes(StandardCharsets.UTF_8));
            } catch (IOException ignored) {
              // the client went
            }
          });
          h.setDaemon(true);
          h.start();
        } catch (IOException e) {
          return;
        }
      }
    });
    t.setDaemon(true);
    t.start();
  }

  /** A client of the cluster port, one line per request. */
  static final class Conn implements AutoCloseable {
    final Socket s;
    final BufferedReader in;

    private Conn(Socket s) throws IOException {
      this.s = s;
      this.in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
    }

    static Conn open() throws IOException {
      Socket s = new Socket();
      s.connect(new InetSocketAddress(InetAddress.getByName(AGENT), PORT), 2000);
      s.setSoTimeout(3000);
      return new Conn(s);
    }

    void send(String line) throws IOException { s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8)); }

    String read() throws IOException {
      String l = in.readLine();
      if (l == null) throw new IOException("closed");
      return l;
    }

    String ask(String line) throws IOException {
      send(line);
      return read();
    }

    boolean silentFor(Duration d) throws IOException {
      s.setSoTimeout((int) d.toMillis());
      try {
        in.readLine();
        return false; // an answer, or the connection closed
      } catch (SocketTimeoutException e) {
        return true;
      } finally {
        s.setSoTimeout(3000);
      }
    }

    /** The peer's reset shows at the send or at the read after it. */
    boolean resetAtNextSend() {
      try {
        send("after");
        return in.readLine() == null;
      } catch (SocketTimeoutException e) {
        return false;
      } catch (IOException e) {
        return true;
      }
    }

    @Override
    public void close() {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing
      }
    }
  }

  private static void step(String what) { System.out.println("kernel drill: " + what); }

  private static void check(boolean ok, String what) {
    if (!ok) throw new AssertionError(what);
  }

  private static void await(String what, BooleanSupplier cond) {
    Awaitility.await(what).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(cond::getAsBoolean);
  }

}
