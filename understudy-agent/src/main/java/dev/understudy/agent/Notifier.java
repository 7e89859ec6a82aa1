package dev.understudy.agent;

import dev.understudy.model.Event;
import dev.understudy.model.Keys;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.Store;
import dev.understudy.store.StoreUnavailableException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers events to the operator's notifiers (FIG. 7A 810, FIG. 8 902): a webhook (HTTP POST of the event as JSON,
 * with a timeout and retries) and a command hook (the event in UNDERSTUDY_EVENT_* variables and as JSON on stdin, as
 * keepalived's and Pacemaker's alert agents get it). Every agent sees every event; a compare-and-set on
 * {@code notified/NOTIFIER/EVENT} elects the one agent that delivers it, so each notifier gets each event once.
 * Delivery runs on its own thread and never blocks the agent.
 */
final class Notifier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Notifier.class);

  private final String self;
  private final Store store;
  private final AgentConfig.NotifyConfig cfg;
  private final ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "notifier");
    t.setDaemon(true);
    return t;
  });
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  Notifier(String self, Store store, AgentConfig.NotifyConfig cfg) {
    this.self = self;
    this.store = store;
    this.cfg = cfg;
  }

  static String claimKey(String notifier, Event e) { return "notified/" + notifier + "/" + e.id(); }

  /** Called for every event this replica applies. */
  void onEvent(Event e) {
    if (cfg == null) return;
    if (cfg.kinds() != null && !cfg.kinds().isEmpty() && !cfg.kinds().contains(e.kind())) return;
    pool.execute(() -> {
      if (cfg.webhook() != null && claim("webhook", e)) webhook(e);
      if (cfg.command() != null && !cfg.command().isEmpty() && claim("command", e)) command(e);
    });
  }

  private boolean claim(String notifier, Event e) {
    try {
      return store.txn(List.of(Op.create(claimKey(notifier, e), Json.write(Map.of("by", self))))).ok();
    } catch (StoreUnavailableException ex) {
      return false; // outcome unknown: another agent may have it; at most once beats twice for a page at 3 a.m.
    }
  }

  private void webhook(Event e) {
    Duration timeout = Durations.parse("notifications.webhookTimeout", AgentConfig.or(cfg.webhookTimeout(), "2s"));
    int retries = cfg.webhookRetries() == null ? 3 : cfg.webhookRetries();
    String body = Json.write(e);
    for (int attempt = 0; attempt <= retries; attempt++) {
      try {
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(cfg.webhook())).timeout(timeout)
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() < 300) return;
        log.warn("webhook answered {} for event {}", r.statusCode(), e.id());
      } catch (IOException ex) {
        log.warn("webhook failed for event {}: {}", e.id(), ex.getMessage());
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        return;
      }
      sleep(200L << attempt);
    }
    log.error("webhook gave up on event {} after {} attempts", e.id(), retries + 1);
  }

  private void command(Event e) {
    try {
      ProcessBuilder pb = new ProcessBuilder(cfg.command()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
      Map<String, String> env = pb.environment();
      env.put("UNDERSTUDY_EVENT_ID", e.id());
      env.put("UNDERSTUDY_EVENT_KIND", e.kind());
      env.put("UNDERSTUDY_EVENT_TIME", String.valueOf(e.timeMillis()));
      env.put("UNDERSTUDY_EVENT_SERVER", e.server() == null ? "" : e.server());
      env.put("UNDERSTUDY_EVENT_APP", e.app() == null ? "" : e.app());
      env.put("UNDERSTUDY_EVENT_MESSAGE", e.message() == null ? "" : e.message());
      Process p = pb.start();
      try (OutputStream in = p.getOutputStream()) {
        in.write(Json.write(e).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        log.warn("notify command timed out on event {}", e.id());
      }
    } catch (IOException ex) {
      log.warn("notify command failed on event {}: {}", e.id(), ex.getMessage());
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() { pool.shutdownNow(); }
}
