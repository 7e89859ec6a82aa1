package dev.understudy.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.understudy.agent.Agent;
import dev.understudy.agent.AgentConfig;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Requests an attacker can send to one agent's API (#21): bodies of unknown or excessive length, a web page's
 * cross-site form post, a DNS-rebinding page's read, NUL-bearing input. Each gets a clear error and changes nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileApiTest {
  static final String TOKEN = "hostile-token-0123456789";
  Agent agent;
  String addr = "127.0.0.23";
  int port;
  String base;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start() throws Exception {
    OneAgent one = OneAgent.start(addr, new AgentConfig.Cluster("hostile", "0123456789abcdef-secret", TOKEN));
    agent = one.agent();
    port = one.port();
    base = one.base();
  }

  @AfterAll
  void stop() {
    if (agent != null) agent.close();
  }

  private HttpResponse<String> send(String method, String path, HttpRequest.BodyPublisher body, String token, String type)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).method(method, body);
    if (token != null) b.header("Authorization", "Bearer " + token);
    if (type != null) b.header("Content-Type", type);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Starts a chunked body (one 64 KiB chunk of a body that never ends) and returns what the server answers meanwhile:
   * an answer before the body is complete is a decision made without reading it. (After answering, the server drains
   * what the client goes on sending until it closes, as any graceful close does; it keeps none of it.)
   */
  private String answerToEndlessChunkedBody(String path, String token) throws Exception {
    try (Socket s = new Socket(addr, port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\n"
          + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
          + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(("10000\r\n" + " ".repeat(0x10000) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return new String(s.getInputStream().readNBytes(400), StandardCharsets.US_ASCII);
    }
  }

  @Test
  void aChunkedBodyIsRefusedBeforeItIsRead() throws Exception {
    assertThat(answerToEndlessChunkedBody("/api/v1/client/register", null)).startsWith("HTTP/1.1 411")
        .contains("Connection: close").contains("Content-Length");
    assertThat(answerToEndlessChunkedBody("/api/v1/apps", TOKEN)).startsWith("HTTP/1.1 411");
  }

  @Test
  void anOversizedBodyIsRefused() throws Exception {
    String big = "{\"tag\":\"big\",\"attributes\":{\"k\":\"" + "x".repeat(1_100_000) + "\"}}";
    HttpResponse<String> r = send("POST", "/api/v1/apps", HttpRequest.BodyPublishers.ofString(big), TOKEN, "application/json");
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(send("GET", "/api/v1/apps/big", HttpRequest.BodyPublishers.noBody(), TOKEN, null).statusCode()).isEqualTo(404);
  }

  /** What a web page can send with no preflight: a form post, text/plain, no Authorization header. */
  @Test
  void aCrossSiteFormPostChangesNothing() throws Exception {
    String body = "{\"tag\":\"csrf\",\"command\":{\"argv\":[\"touch\",\"/tmp/pwned\"]},\"primary\":\"s1\",\"backups\":[\"s1\"]}";
    HttpResponse<String> r = send("POST", "/api/v1/apps", HttpRequest.BodyPublishers.ofString(body), null, "text/plain");
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(send("GET", "/api/v1/apps/csrf", HttpRequest.BodyPublishers.noBody(), TOKEN, null).statusCode()).isEqualTo(404);
  }

  /** A page on evil.example whose name now resolves to the agent: the browser sends Host: evil.example. */
  @Test
  void aDnsRebindingReadIsRefusedAndADirectOneServed() throws Exception {
    assertThat(rawGet("/api/v1/status", "evil.example:" + port)).startsWith("HTTP/1.1 403");
    assertThat(rawGet("/api/v1/status", addr + ":" + port)).startsWith("HTTP/1.1 200");
    assertThat(rawGet("/api/v1/status", "localhost:" + port)).startsWith("HTTP/1.1 200");
  }

  private String rawGet(String path, String host) throws Exception {
    try (Socket s = new Socket(addr, port)) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /**
   * #21: event-stream writes ran on the thread that tells the agent of every database change, so one client that
   * stopped reading stopped the agent from learning anything (its peers' renewals above all: it saw them DOWN).
   */
  @Test
  void aStreamClientThatStopsReadingIsDroppedAndHoldsNothingUp() throws Exception {
    java.util.List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    agent.store().watch(changes -> changes.forEach(c -> seen.add(c.key())));
    try (Socket s = new Socket()) {
      s.setReceiveBufferSize(4096);
      s.connect(new java.net.InetSocketAddress(addr, port), 5000);
      s.getOutputStream().write(("GET /api/v1/events/stream HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Bearer " + TOKEN
          + "\r\nAccept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      // read up to the stream's first comment (it is set up), then never read again
      s.setSoTimeout(10_000);
      StringBuilder head = new StringBuilder();
      var in = s.getInputStream();
      while (!head.toString().contains("understudy event stream")) {
        int b = in.read();
        if (b < 0) break;
        head.append((char) b);
      }
      assertThat(head.toString()).startsWith("HTTP/1.1 200");
      String filler = "x".repeat(2000);
      for (int i = 0; i < 3000; i++) {
        var e = new dev.understudy.model.Event("flood-" + i, System.currentTimeMillis(), "TEST", "s1", null, filler, java.util.Map.of());
        agent.store().txnPipelined(List.of(ApiServer.eventOp(e)));
      }
      agent.store().put("probe/after-the-flood", "1");
      await().atMost(Duration.ofSeconds(20)).until(() -> seen.contains("probe/after-the-flood"));
    }
  }

  @Test
  void aNulInAResourceIsRefusedNamingTheField() throws Exception {
    String body = "{\"tag\":\"nul\",\"command\":{\"argv\":[\"sleep\",\"9\"]},\"primary\":\"s1\",\"backups\":[],"
        + "\"resources\":[\"path:/srv/a\\u0000b\"]}";
    HttpResponse<String> r = send("POST", "/api/v1/apps", HttpRequest.BodyPublishers.ofString(body), TOKEN, "application/json");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(send("GET", "/api/v1/apps/nul", HttpRequest.BodyPublishers.noBody(), TOKEN, null).statusCode()).isEqualTo(404);
  }
}
