package dev.understudy.cli;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;

/** A tiny HTTP service for the demo and tests: answers with where it runs and at which epoch. */
@Command(name = "hello-service", mixinStandardHelpOptions = true, hidden = true, description = "Sample HTTP service (uses UNDERSTUDY_ADDRESS/PORT).")
public final class HelloService implements Callable<Integer> {
  @picocli.CommandLine.Option(names = "--aware", description = "be cluster aware: wait paused until this server hosts the app"
      + " (so it can run as a warm standby), and exit when the agent asks it to unload")
  boolean aware;
  private volatile HttpServer serving;

  /**
   * The argv that runs it as an app: its own main on this JVM's class path, started directly rather than through the
   * CLI (up in ~0.4 s instead of ~0.8 s on a 2-core machine).
   */
  public static java.util.List<String> argv(boolean aware) {
    java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of(ProcessHandle.current().info().command().orElse("java"),
        "-Xmx32m", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", System.getProperty("java.class.path"),
        HelloService.class.getName()));
    if (aware) a.add("--aware");
    return a;
  }

  /** Started directly (not through the CLI) it is up in a fraction of the time: the benchmarks' sample service. */
  public static void main(String[] args) throws Exception {
    HelloService h = new HelloService();
    h.aware = java.util.Arrays.asList(args).contains("--aware");
    h.call();
  }

  @Override
  public Integer call() throws Exception {
    String epochSeen = null;
    if (aware) {
      dev.understudy.client.Understudy us = dev.understudy.client.Understudy.fromEnvironment();
      // nothing to save: go at once (System.exit would wait ~0.3 s for the JDK's HTTP client and server to wind down)
      // nothing to save: stop serving and go at once. The JDK's HTTP server, left running, holds the process's exit for
      // ~0.3 s (measured: the process lingered as a zombie with live threads), and the failback with it.
      us.onUnload(() -> {
        HttpServer s = serving;
        if (s != null) s.stop(0);
        Runtime.getRuntime().halt(0);
      });
      // a warm standby does everything but serve while it waits: here, load the HTTP server's classes
      HttpServer warm = HttpServer.create(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 1);
      warm.createContext("/", ex -> ex.close());
      warm.start();
      warm.stop(0);
      epochSeen = String.valueOf(us.awaitHost()); // a warm standby waits here, serving nothing
    }
    String addr = System.getenv().getOrDefault("UNDERSTUDY_ADDRESS", "127.0.0.1");
    int port = Integer.parseInt(System.getenv().getOrDefault("UNDERSTUDY_PORT", "9080"));
    String server = System.getenv().getOrDefault("UNDERSTUDY_SERVER", "?");
    String epoch = epochSeen != null ? epochSeen : System.getenv().getOrDefault("UNDERSTUDY_EPOCH", "?");
    AtomicLong hits = new AtomicLong();
    HttpServer http = HttpServer.create(new InetSocketAddress(addr, port), 64);
    http.createContext("/", ex -> {
      byte[] body = ("hello from " + server + " (epoch " + epoch + ", request " + hits.incrementAndGet() + ")\n")
          .getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    http.start();
    serving = http;
    // without this the JDK's HTTP server holds the JVM's exit for ~0.35 s, and every stop, failback and move with it
    Runtime.getRuntime().addShutdownHook(new Thread(() -> http.stop(0)));
    System.out.println("hello-service listening on " + addr + ":" + port + " on " + server + " at epoch " + epoch);
    Thread.currentThread().join();
    return 0;
  }
}
