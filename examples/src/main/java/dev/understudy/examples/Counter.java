package dev.understudy.examples;

import com.sun.net.httpserver.HttpServer;
import dev.understudy.client.StaleEpochException;
import dev.understudy.client.Understudy;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A cluster-aware service: processes numbered items one by one, saves a marker (the next item) after each, resumes
 * from the marker on a new host, and unloads gracefully when asked. It serves its progress over HTTP once it is host.
 *
 * <p>Environment: the agent's UNDERSTUDY_* variables; WORK_LOG (optional) is a file every processed item is appended
 * to ("item N SERVER EPOCH NANOS"), which the tests use to prove no item is lost or done twice; STEP_MS (default 100).
 */
public final class Counter {
  public static void main(String[] args) throws Exception {
    Understudy us = Understudy.fromEnvironment();
    String server = System.getenv().getOrDefault("UNDERSTUDY_SERVER", "?");
    String workLog = System.getenv("WORK_LOG");
    long stepMs = Long.parseLong(System.getenv().getOrDefault("STEP_MS", "100"));

    var reg = us.register(Understudy.Registration.of(us.tag()));
    if (!reg.matches()) System.out.println("registered object differs from what this program carries: " + reg.differences());
    System.out.println("counter on " + server + ": paused until this server is the host");
    long epoch = us.awaitHost();
    long next = us.loadMarker().map(b -> ByteBuffer.wrap(b).getLong()).orElse(0L);
    System.out.println("counter on " + server + " is host at epoch " + epoch + ", resuming at item " + next);

    AtomicLong progress = new AtomicLong(next);
    Object lock = new Object();
    us.onUnload(() -> {
      synchronized (lock) { // finish the current item, checkpoint, leave
        try {
          us.saveMarker(ByteBuffer.allocate(8).putLong(progress.get()).array());
        } catch (RuntimeException e) {
          System.out.println("final marker not saved: " + e.getMessage());
        }
        System.out.println("counter on " + server + " unloading at item " + progress.get());
        Runtime.getRuntime().halt(0);
      }
    });
    serve(server, epoch, progress);
    while (true) {
      synchronized (lock) {
        long item = progress.get();
        if (workLog != null) {
          Files.writeString(Path.of(workLog), "item " + item + " " + server + " " + epoch + " " + System.nanoTime() + "\n",
              StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        try {
          us.saveMarker(ByteBuffer.allocate(8).putLong(item + 1).array());
        } catch (StaleEpochException e) {
          System.out.println("fenced: " + e.getMessage());
          Runtime.getRuntime().halt(3);
        }
        progress.set(item + 1);
      }
      Thread.sleep(stepMs);
    }
  }

  private static void serve(String server, long epoch, AtomicLong progress) throws IOException {
    String addr = System.getenv("UNDERSTUDY_ADDRESS");
    String port = System.getenv("UNDERSTUDY_PORT");
    if (addr == null || port == null) return;
    HttpServer http = HttpServer.create(new InetSocketAddress(addr, Integer.parseInt(port)), 64);
    http.createContext("/", ex -> {
      byte[] body = ("counter at item " + progress.get() + " on " + server + " (epoch " + epoch + ")\n").getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    http.start();
    // the JDK's HTTP server otherwise holds the JVM's exit for ~0.35 s: every unload (failback, move) would wait for it
    Runtime.getRuntime().addShutdownHook(new Thread(() -> http.stop(0)));
  }
}
