package dev.understudy.client;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The API a cluster-aware program uses to talk to its local Understudy agent (JDK only). Typical use:
 *
 * <pre>{@code
 * Understudy us = Understudy.fromEnvironment();
 * us.register(Registration.of("counter").primary("s1").backups("s2"));   // FIG. 6: first thing
 * long epoch = us.awaitHost();                                            // paused until this server hosts it
 * byte[] resume = us.loadMarker().orElse(null);                           // where the previous host ceased
 * us.onUnload(() -> { us.saveMarker(state()); System.exit(0); });         // failback, move, operator unload
 * while (working) { doStep(); us.saveMarker(state()); }                   // checkpoints, fenced by the epoch
 * }</pre>
 *
 * <p>Every call is one HTTP request to {@code UNDERSTUDY_AGENT_URL}; the contract is in the README ("Client API"), so a
 * program in any language can do the same.
 */
public final class Understudy {
  private final URI agent;
  private final String token;
  private final String tag;
  private volatile long epoch;
  private final HttpClient http;

  public Understudy(URI agent, String token, String tag, long epoch) {
    this(agent, token, tag, epoch, null);
  }

  /** {@code trust}: for an agent whose API is HTTPS, its cluster's CA ({@link ClusterTrust}); null: the JVM's default. */
  public Understudy(URI agent, String token, String tag, long epoch, javax.net.ssl.SSLContext trust) {
    this.agent = agent;
    this.token = token;
    this.tag = tag;
    this.epoch = epoch;
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3));
    if (trust != null) b.sslContext(trust);
    this.http = b.build();
  }

  /**
   * From the environment the agent gives the instance: UNDERSTUDY_AGENT_URL, UNDERSTUDY_APP_TOKEN (or UNDERSTUDY_TOKEN,
   * the cluster token, for a program an operator starts by hand), UNDERSTUDY_TAG, UNDERSTUDY_EPOCH, and where the
   * agent's API is HTTPS, UNDERSTUDY_CA (the cluster CA, a PEM file or its text).
   */
  public static Understudy fromEnvironment() {
    String url = require("UNDERSTUDY_AGENT_URL");
    String token = Optional.ofNullable(System.getenv("UNDERSTUDY_APP_TOKEN")).orElse(System.getenv("UNDERSTUDY_TOKEN"));
    String epoch = System.getenv("UNDERSTUDY_EPOCH");
    return new Understudy(URI.create(url), token, require("UNDERSTUDY_TAG"), epoch == null ? 0 : Long.parseLong(epoch),
        ClusterTrust.fromEnvironment());
  }

  private static String require(String name) {
    String v = System.getenv(name);
    if (v == null || v.isBlank()) throw new IllegalStateException(name + " is not set: run this program under an Understudy agent");
    return v;
  }

  public String tag() { return tag; }

  /** The fencing token of this instance: the epoch it was started at, or the one {@link #awaitHost()} answered. */
  public long epoch() { return epoch; }

  /** Attributes the program carries about itself, for {@link #register}. */
  public static final class Registration {
    final Map<String, Object> body = new LinkedHashMap<>();

    private Registration(String tag) {
      body.put("tag", tag);
      body.put("type", "AWARE");
    }

    public static Registration of(String tag) { return new Registration(tag); }

    public Registration primary(String server) { body.put("primary", server); return this; }

    public Registration backups(String... servers) { body.put("backups", List.of(servers)); return this; }

    public Registration command(String... argv) { body.put("command", Map.of("argv", List.of(argv))); return this; }

    public Registration resources(String... specs) { body.put("resources", List.of(specs)); return this; }

    public Registration autoFailback(boolean on) { body.put("autoFailback", on); return this; }

    public Registration service(int clusterPort, int appPort) {
      body.put("service", Map.of("clusterPort", clusterPort, "appPort", appPort));
      return this;
    }

    public Registration attribute(String key, String value) {
      @SuppressWarnings("unchecked")
      Map<String, String> attrs = (Map<String, String>) body.computeIfAbsent("attributes", k -> new LinkedHashMap<String, String>());
      attrs.put(key, value);
      return this;
    }
  }

  /** What {@link #register} found: created now, or already there and matching (or not: {@code differences}). */
  public record RegistrationResult(boolean created, boolean matches, List<String> differences) {}

  /** FIG. 6: creates the app object from these attributes, or verifies the existing one matches them. */
  @SuppressWarnings("unchecked")
  public RegistrationResult register(Registration r) {
    Response resp = send("POST", "/api/v1/client/register", MiniJson.write(r.body).getBytes(StandardCharsets.UTF_8), 0);
    Map<String, Object> m = (Map<String, Object>) MiniJson.parse(resp.text());
    boolean created = Boolean.TRUE.equals(m.get("registered"));
    List<String> diffs = m.get("differences") instanceof List<?> l ? (List<String>) l : List.of();
    return new RegistrationResult(created, created || Boolean.TRUE.equals(m.get("matches")), diffs);
  }

  /**
   * FIG. 3D: blocks while this server is not the app's host (for example a primary rejoining while a backup still runs
   * it) and returns, with the epoch to use from now on, once the host is this server, which means the previous host
   * has unloaded it.
   */
  public long awaitHost() throws InterruptedException {
    while (true) {
      OptionalLong e = awaitHost(Duration.ofSeconds(30));
      if (e.isPresent()) return e.getAsLong();
      if (Thread.interrupted()) throw new InterruptedException();
    }
  }

  /** Like {@link #awaitHost()} but gives up after {@code timeout}: empty when this server is still not the host. */
  @SuppressWarnings("unchecked")
  public OptionalLong awaitHost(Duration timeout) {
    Response r = send("GET", "/api/v1/client/" + tag + "/host?waitMs=" + timeout.toMillis(), null, timeout.toMillis());
    Map<String, Object> m = (Map<String, Object>) MiniJson.parse(r.text());
    if (!Boolean.TRUE.equals(m.get("host"))) return OptionalLong.empty();
    epoch = ((Number) m.get("epoch")).longValue();
    return OptionalLong.of(epoch);
  }

  /**
   * Claims 23, 24: saves a checkpoint (at most 64 KiB) in the replicated cluster database, tagged with this instance's
   * epoch. Refused with {@link StaleEpochException} when a newer instance exists: this one must stop.
   */
  public void saveMarker(byte[] data) {
    send("PUT", "/api/v1/client/" + tag + "/marker?epoch=" + epoch, data, 0);
  }

  /** The last marker saved by any instance, so a new host resumes where the previous one ceased. */
  public Optional<byte[]> loadMarker() {
    Response r = send("GET", "/api/v1/client/" + tag + "/marker", null, 0);
    return r.status() == 204 ? Optional.empty() : Optional.of(r.body());
  }

  /**
   * FIG. 3D, claim 48: {@code callback} runs (once, on a daemon thread) when the agent needs this instance gone (failback,
   * move, operator unload). It should save a marker and exit; the agent verifies, and stops it after its stop timeout.
   */
  public void onUnload(Runnable callback) {
    Thread t = new Thread(() -> {
      while (true) {
        try {
          Response r = send("GET", "/api/v1/client/" + tag + "/unload?waitMs=30000", null, 30_000);
          if (r.status() == 200) {
            callback.run();
            return;
          }
        } catch (UnderstudyException e) {
          try {
            Thread.sleep(500);
          } catch (InterruptedException ie) {
            return;
          }
        }
      }
    }, "understudy-unload");
    t.setDaemon(true);
    t.start();
  }

  /** Resource module: publishes the app's resource requirements (exec:, path:, port:, cpu:, memory:, label:). */
  public void publishResources(List<String> specs) {
    send("PUT", "/api/v1/client/" + tag + "/resources", MiniJson.write(specs).getBytes(StandardCharsets.UTF_8), 0);
  }

  /** The app's extra attributes (module 520). */
  @SuppressWarnings("unchecked")
  public Map<String, String> attributes() {
    Map<String, Object> m = (Map<String, Object>) MiniJson.parse(send("GET", "/api/v1/client/" + tag + "/attributes", null, 0).text());
    Map<String, String> out = new LinkedHashMap<>();
    m.forEach((k, v) -> out.put(k, String.valueOf(v)));
    return out;
  }

  /** Sets one attribute ({@code null} removes it). */
  public void setAttribute(String key, String value) {
    Map<String, Object> patch = new LinkedHashMap<>();
    patch.put(key, value);
    send("PATCH", "/api/v1/client/" + tag + "/attributes", MiniJson.write(patch).getBytes(StandardCharsets.UTF_8), 0);
  }

  private record Response(int status, byte[] body) {
    String text() { return new String(body, StandardCharsets.UTF_8); }
  }

  private Response send(String method, String path, byte[] body, long waitMs) {
    HttpRequest.Builder b = HttpRequest.newBuilder(agent.resolve(path)).timeout(Duration.ofMillis(10_000 + waitMs));
    if (token != null) b.header("Authorization", "Bearer " + token);
    if (body != null) {
      b.header("Content-Type", path.endsWith("/marker?epoch=" + epoch) || path.contains("/marker?") ? "application/octet-stream" : "application/json");
      b.method(method, HttpRequest.BodyPublishers.ofByteArray(body));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    try {
      HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() >= 400) {
        String msg = new String(r.body(), StandardCharsets.UTF_8);
        try {
          Object parsed = MiniJson.parse(msg);
          if (parsed instanceof Map<?, ?> m && m.get("error") != null) msg = String.valueOf(m.get("error"));
        } catch (IllegalArgumentException ignored) {
          // not JSON: keep the text
        }
        if (r.statusCode() == 409 && path.contains("/marker")) throw new StaleEpochException(msg);
        throw new UnderstudyException(r.statusCode(), msg);
      }
      return new Response(r.statusCode(), r.body());
    } catch (IOException e) {
      throw new UnderstudyException(0, "cannot reach the agent at " + agent + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnderstudyException(0, "interrupted");
    }
  }

  static String urlEncode(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8); }
}
