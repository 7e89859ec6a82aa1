package dev.understudy.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.understudy.model.Event;
import dev.understudy.store.InMemoryStore;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * #24: notifications went out at most once, from whichever agent claimed the event: a webhook down during the
 * claimer's retries, or a claimer that died, lost the event. Now at least once, with the event's id for duplicates.
 * Two agents' notifiers share one database here, as they share the cluster's.
 */
class NotifierTest {
  final InMemoryStore store = new InMemoryStore();
  final List<String> ids = new CopyOnWriteArrayList<>();
  final AtomicInteger refuse = new AtomicInteger();
  HttpServer hook;
  Notifier a;
  Notifier b;

  void start() throws Exception {
    hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
    hook.createContext("/hook", ex -> {
      ex.getRequestBody().readAllBytes();
      boolean down = refuse.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
      if (!down) ids.add(ex.getRequestHeaders().getFirst("X-Understudy-Event-Id"));
      ex.sendResponseHeaders(down ? 503 : 204, -1);
      ex.close();
    });
    hook.start();
    var cfg = new AgentConfig.NotifyConfig("http://127.0.0.1:" + hook.getAddress().getPort() + "/hook", "1s", 1, null, null);
    a = new Notifier("s1", store, cfg, Duration.ofMillis(500));
    b = new Notifier("s2", store, cfg, Duration.ofMillis(500));
  }

  @AfterEach
  void stop() {
    if (a != null) a.close();
    if (b != null) b.close();
    if (hook != null) hook.stop(0);
  }

  static Event event(String id) {
    return new Event(id, System.currentTimeMillis(), "FAILOVER", "s1", "db", "db failed over", Map.of());
  }

  @Test
  void everyAgentSeesTheEventAndTheNotifierGetsItOnceWithItsId() throws Exception {
    start();
    a.onEvent(event("s1-1"));
    b.onEvent(event("s1-1"));
    await().atMost(Duration.ofSeconds(5)).until(() -> ids.size() == 1);
    await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> ids.size() == 1);
    assertThat(ids).containsExactly("s1-1");
  }

  @Test
  void aWebhookDownThroughTheClaimersRetriesStillGetsTheEvent() throws Exception {
    start();
    refuse.set(4); // the claimer's two attempts, and then some: the event must still arrive
    a.onEvent(event("s1-2"));
    b.onEvent(event("s1-2"));
    await().atMost(Duration.ofSeconds(10)).until(() -> ids.contains("s1-2"));
  }

  @Test
  void anEventWhoseClaimerDiedIsDeliveredByAnother() throws Exception {
    start();
    refuse.set(2); // the claimer's attempts fail, then it dies before it can try again
    a.onEvent(event("s1-3"));
    await().atMost(Duration.ofSeconds(5)).until(() -> refuse.get() == 0);
    a.close();
    b.onEvent(event("s1-3")); // the other agent applied the same event
    await().atMost(Duration.ofSeconds(10)).until(() -> ids.contains("s1-3"));
  }
}
