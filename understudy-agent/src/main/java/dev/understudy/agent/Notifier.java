package dev.understudy.agent;

import dev.understudy.model.Event;
import dev.understudy.model.Keys;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.Store;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers events to the operator's notifiers (FIG. 7A 810, FIG. 8 902): a webhook (HTTP POST of the event as JSON,
 * with a timeout and retries) and a command hook (the event in UNDERSTUDY_EVENT_* variables and as JSON on stdin, as
 * keepalived's and Pacemaker's alert agents get it). At least once, never lost to one agent's death: every agent sees
 * every event; a compare-and-set on {@code notified/NOTIFIER/EVENT} elects the agent that delivers it, which marks it
 * delivered once the notifier took it. A claim still not delivered after {@link #takeover} (its agent died, or the
 * notifier was down through its retries) is claimed again, by any agent, and delivered again, until an hour after the
 * event. A receiver drops duplicates by the event's id ({@code X-Understudy-Event-Id}, {@code UNDERSTUDY_EVENT_ID}).
 * Delivery runs on its own thread and never blocks the agent.
 */
final class Notifier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Notifier.class);
  /** Past this an undelivered event is given up (logged): a page an hour late is noise. */
  static final Duration GIVE_UP_AFTER = Duration.ofHours(1);

  private final String self;
  private final Store store;
  private volatile AgentConfig.NotifyConfig cfg;
  private final Duration takeover;
  private final java.util.concurrent.ScheduledExecutorService pool = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "notifier");
    t.setDaemon(true);
    return t;
  });
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  Notifier(String self, Store store, AgentConfig.NotifyConfig cfg) { this(self, store, cfg, Duration.ofSeconds(60)); }

  /** A reloaded configuration: notifications from now on go where it says. */
  void reconfigure(AgentConfig.NotifyConfig next) { cfg = next; }

  /** {@code takeover}: how long a claim may stay undelivered before another agent claims the event again. */
  Notifier(String self, Store store, AgentConfig.NotifyConfig cfg, Duration takeover) {
    this.self = self;
    this.store = store;
    this.cfg = cfg;
    this.takeover = takeover;
  }

  static String claimKey(String notifier, Event e) { return "notified/" + notifier + "/" + e.id(); }

  /** Who holds the delivery of an event to a notifier, and whether the notifier has taken it. */
  record Claim(String by, long atMillis, boolean delivered) {}

  /** Called for every event this replica applies. */
  void onEvent(Event e) {
    AgentConfig.NotifyConfig c = cfg; // one configuration per event, whatever a reload does meanwhile
    if (c == null) return;
    if (c.kinds() != null && !c.kinds().isEmpty() && !c.kinds().contains(e.kind())) return;
    if (c.webhook() != null) schedule("webhook", e, 0);
    if (c.command() != null && !c.command().isEmpty()) schedule("command", e, 0);
  }

  private void schedule(String notifier, Event e, long delayMs) {
    try {
      pool.schedule(() -> attempt(notifier, e), delayMs, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // the agent is closing: the others (or its next life's takeover) deliver
    }
  }

  /** Claims the event for {@code notifier} (first, or again once a claim went stale), delivers it, marks it delivered. */
  private void attempt(String notifier, Event e) {
    long now = System.currentTimeMillis();
    if (now - e.timeMillis() > GIVE_UP_AFTER.toMillis()) {
      log.error("{} never took event {} ({}) within {}; given up", notifier, e.id(), e.kind(), GIVE_UP_AFTER);
      return;
    }
    String key = claimKey(notifier, e);
    long claimVersion;
    try {
      var cur = store.localGet(key);
      if (cur.isPresent()) {
        Claim c = Json.read(cur.get().value(), Claim.class);
        if (c.delivered()) return;
        long age = now - c.atMillis();
        if (age < takeover.toMillis()) { // held by a live claim: look again once it would be stale
          schedule(notifier, e, takeover.toMillis() - age + 100);
          return;
        }
        claimVersion = cur.get().version();
      } else {
        claimVersion = 0;
      }
      var r = store.txn(List.of(Op.put(key, Json.write(new Claim(self, now, false)), claimVersion)));
      if (!r.ok()) { // another agent claimed it first: look again in case it never delivers
        schedule(notifier, e, takeover.toMillis() + 100);
        return;
      }
    } catch (RuntimeException ex) { // a StoreUnavailableException among them: the outcome is unknown
      schedule(notifier, e, takeover.toMillis()); // the outcome is unknown: at least once may mean twice
      return;
    }
    boolean taken = notifier.equals("webhook") ? webhook(e) : command(e);
    if (taken) {
      try {
        store.txn(List.of(Op.put(key, Json.write(new Claim(self, System.currentTimeMillis(), true)))));
      } catch (RuntimeException ex) { // a StoreUnavailableException among them: the outcome is unknown
        log.warn("event {} went to the {} but could not be marked delivered: it may be delivered again", e.id(), notifier);
      }
    } else {
      schedule(notifier, e, takeover.toMillis() + 100); // this agent or another tries again once the claim is stale
    }
  }

  /** True once the webhook answered 2xx. */
  private boolean webhook(Event e) {
    Duration timeout = Durations.parse("notifications.webhookTimeout", AgentConfig.or(cfg.webhookTimeout(), "2s"));
    int retries = cfg.webhookRetries() == null ? 3 : cfg.webhookRetries();
    String body = Json.write(e);
    for (int attempt = 0; attempt <= retries; attempt++) {
      try {
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(cfg.webhook())).timeout(timeout)
            .header("Content-Type", "application/json").header("X-Understudy-Event-Id", e.id())
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() < 300) return true;
        log.warn("webhook answered {} for event {}", r.statusCode(), e.id());
      } catch (IOException ex) {
        log.warn("webhook failed for event {}: {}", e.id(), ex.getMessage());
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        return false;
      }
      if (attempt < retries) sleep(200L << attempt);
    }
    log.error("webhook did not take event {} after {} attempts; it is tried again in {}", e.id(), retries + 1, takeover);
    return false;
  }

  /** True once the command exited 0. */
  private boolean command(Event e) {
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
        return false;
      }
      if (p.exitValue() != 0) log.warn("notify command exited with {} on event {}", p.exitValue(), e.id());
      return p.exitValue() == 0;
    } catch (IOException ex) {
      log.warn("notify command failed on event {}: {}", e.id(), ex.getMessage());
      return false;
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      return false;
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
