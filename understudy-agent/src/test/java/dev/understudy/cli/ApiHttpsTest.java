package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.understudy.client.ClusterTrust;
import dev.understudy.testing.Ports;
import dev.understudy.tls.ClusterCa;
import dev.understudy.tls.Pem;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Real agents with {@code tls.api: on} (what every agent off loopback does by default): the API is HTTPS with the
 * server's cluster certificate and nothing else, the CLI trusts the cluster CA, agents reach each other's API over
 * HTTPS, apps are told the CA, and a reissued certificate is served without a restart (#21).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiHttpsTest {
  static Path dir = Path.of("target", "apihttps-" + System.nanoTime()).toAbsolutePath();
  LocalCluster lc;
  Path seen = dir.resolve("seen-by-app");

  @BeforeAll
  void up() throws Exception {
    lc = LocalCluster.up(dir.resolve("cluster"), 2, Ports.free("127.0.0.11"), null, false, null);
    lc.down();
    lc.apiTls("on");
    for (String id : lc.ids()) lc.start(id);
    lc.awaitReady(null, 60_000);
    Files.createDirectories(dir);
    lc.client("s1").post("/api/v1/apps", Map.of("tag", "web", "command", Map.of("argv", List.of("sh", "-c",
        "printf '%s\\n%s' \"$UNDERSTUDY_AGENT_URL\" \"$UNDERSTUDY_CA\" > " + seen + "; echo hello-from-the-host; exec sleep 600")),
        "primary", "s1", "backups", List.of("s2")));
  }

  @AfterAll
  void down() throws Exception {
    if (lc != null) lc.down();
  }

  @Test
  void theApiIsHttpsTrustedThroughTheClusterCa() {
    assertThat(lc.apiUrl("s1")).startsWith("https://");
    assertThat(lc.client("s1").get("/api/v1/status").path("servers")).hasSize(2);
    assertThat(lc.client("s2").get("/api/v1/servers/s1").path("apiUrl").asText()).isEqualTo(lc.apiUrl("s1"));
  }

  @Test
  void aClientThatDoesNotTrustTheClusterCaIsToldHow() {
    assertThatThrownBy(() -> new Client(lc.apiUrl("s1"), lc.token(), null).get("/api/v1/status"))
        .isInstanceOf(CliException.class).hasMessageContaining("--ca").hasMessageContaining("UNDERSTUDY_CA");
  }

  @Test
  void noPlainHttpAnswersOnTheApiPort() throws Exception {
    String plain = lc.apiUrl("s1").replace("https://", "http://");
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    int status;
    try {
      status = http.send(HttpRequest.newBuilder(URI.create(plain + "/api/v1/status")).timeout(Duration.ofSeconds(3))
          .header("Authorization", "Bearer " + lc.token()).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    } catch (java.io.IOException e) {
      status = -1; // the TLS listener hangs up on plain text
    }
    assertThat(status).as("plain HTTP to the HTTPS port").isNotEqualTo(200);
  }

  @Test
  void agentsReachEachOthersApiOverHttps() {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      var logs = lc.client("s2").get("/api/v1/apps/web/logs"); // s2 asks the host, s1, over HTTPS
      assertThat(logs.path("server").asText()).isEqualTo("s1");
      assertThat(logs.path("lines").toString()).contains("hello-from-the-host");
    });
  }

  @Test
  void appsAreGivenTheAgentsHttpsUrlAndTheCaText() throws Exception {
    await().atMost(Duration.ofSeconds(30)).until(() -> Files.isRegularFile(seen) && Files.readString(seen).contains("END CERTIFICATE"));
    String[] lines = Files.readString(seen).split("\n", 2);
    assertThat(lines[0]).isEqualTo(lc.apiUrl("s1"));
    assertThat(lines[1].trim()).isEqualTo(Files.readString(Path.of(lc.caFile())).trim());
    // what the client library does with them: its own trust, from the text alone
    var http = HttpClient.newBuilder().sslContext(ClusterTrust.of(lines[1])).build();
    var r = http.send(HttpRequest.newBuilder(URI.create(lines[0] + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
  }

  @Test
  void aReissuedCertificateIsServedFromTheNextHandshake() throws Exception {
    BigInteger before = servedSerial("s2");
    var files = ClusterCa.open(lc.dir().resolve("tls")).issue("s2", List.of(lc.config("s2").address()), ClusterCa.SERVER_VALIDITY);
    BigInteger reissued = Pem.certificates(files.cert()).get(0).getSerialNumber();
    assertThat(reissued).isNotEqualTo(before);
    await().atMost(Duration.ofSeconds(15)).until(() -> servedSerial("s2").equals(reissued));
    assertThat(lc.client("s2").get("/healthz").path("ok").asBoolean()).isTrue();
  }

  private BigInteger servedSerial(String id) throws Exception {
    var c = lc.config(id);
    try (SSLSocket s = (SSLSocket) ClusterTrust.of(lc.caFile()).getSocketFactory().createSocket(c.address(), c.apiPort())) {
      s.startHandshake();
      return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }
}
