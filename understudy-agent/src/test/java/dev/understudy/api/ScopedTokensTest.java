package dev.understudy.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.agent.Agent;
import dev.understudy.agent.AgentConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The API's credentials, route by route (docs/API.md, "Who may call what"), on an agent whose reads are not open. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScopedTokensTest {
  static final String TOKEN = "operator-token-0123456789";
  static final String READER = "reader-token-0123456789";
  Agent agent;
  String base;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start() throws Exception {
    OneAgent one = OneAgent.start("127.0.0.24", new AgentConfig.Cluster("scoped", "0123456789abcdef-secret", TOKEN, false, READER));
    agent = one.agent();
    base = one.base();
  }

  @AfterAll
  void stop() {
    if (agent != null) agent.close();
  }

  private int status(String method, String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
        .method(method, method.equals("GET") ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString("{}"));
    if (token != null) b.header("Authorization", "Bearer " + token);
    b.header("Content-Type", "application/json");
    return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void readsNeedAReadOrOperatorToken() throws Exception {
    for (String path : List.of("/api/v1/status", "/api/v1/apps", "/api/v1/events", "/api/v1/cluster", "/metrics")) {
      assertThat(status("GET", path, null)).as("GET %s without a token", path).isEqualTo(401);
      assertThat(status("GET", path, "not-a-token-of-this-cluster")).as("GET %s with a wrong token", path).isEqualTo(403);
      assertThat(status("GET", path, READER)).as("GET %s with the read token", path).isEqualTo(200);
      assertThat(status("GET", path, TOKEN)).as("GET %s with the operator token", path).isEqualTo(200);
    }
  }

  @Test
  void theReadTokenChangesNothing() throws Exception {
    for (String[] r : List.of(new String[] {"POST", "/api/v1/apps"}, new String[] {"PUT", "/api/v1/apps/x"},
        new String[] {"DELETE", "/api/v1/apps/x"}, new String[] {"POST", "/api/v1/apps/x/move"},
        new String[] {"PATCH", "/api/v1/apps/x/attributes"}, new String[] {"POST", "/api/v1/servers"},
        new String[] {"DELETE", "/api/v1/servers/s1"}, new String[] {"POST", "/api/v1/client/register"},
        new String[] {"PATCH", "/api/v1/client/x/attributes"}, new String[] {"POST", "/api/v1/maintenance/on"},
        new String[] {"POST", "/api/v1/servers/s1/drain"}, new String[] {"POST", "/api/v1/apps/x/unmanage"},
        new String[] {"POST", "/api/v1/snapshot/restore"}, new String[] {"GET", "/api/v1/snapshot"})) {
      assertThat(status(r[0], r[1], READER)).as("%s %s with the read token", r[0], r[1]).isEqualTo(403);
    }
    assertThat(agent.store().list("apps/")).isEmpty();
  }
}
