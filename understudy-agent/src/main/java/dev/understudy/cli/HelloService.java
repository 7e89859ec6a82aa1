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
  @Override
  public Integer call() throws Exception {
    String addr = System.getenv().getOrDefault("UNDERSTUDY_ADDRESS", "127.0.0.1");
    int port = Integer.parseInt(System.getenv().getOrDefault("UNDERSTUDY_PORT", "9080"));
    String server = System.getenv().getOrDefault("UNDERSTUDY_SERVER", "?");
    String epoch = System.getenv().getOrDefault("UNDERSTUDY_EPOCH", "?");
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
    System.out.println("hello-service listening on " + addr + ":" + port + " on " + server + " at epoch " + epoch);
    Thread.currentThread().join();
    return 0;
  }
}
