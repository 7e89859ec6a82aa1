package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.client.ClusterTrust;
import dev.understudy.store.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Talks to an agent's REST API for the CLI. */
public final class Client {
  private final String base;
  private final String token;
  private final HttpClient http;

  public Client(String base, String token) { this(base, token, null); }

  /** {@code ca}: the cluster CA (a PEM file or its text) an HTTPS agent is trusted by; null: the JVM's trust store. */
  public Client(String base, String token, String ca) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.token = token;
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3));
    if (ca != null) {
      try {
        b.sslContext(ClusterTrust.of(ca));
      } catch (RuntimeException e) {
        throw new CliException(2, e.getMessage());
      }
    }
    this.http = b.build();
  }

  /**
   * --agent, else UNDERSTUDY_AGENT, else the first agent of the local cluster in ./demo-cluster or ./.understudy; the
   * same for the token and the CA (--ca, UNDERSTUDY_CA).
   */
  static Client of(String agentOpt, String tokenOpt, String caOpt) {
    String agent = agentOpt != null ? agentOpt : System.getenv("UNDERSTUDY_AGENT");
    String token = tokenOpt != null ? tokenOpt : System.getenv("UNDERSTUDY_TOKEN");
    String ca = caOpt != null ? caOpt : System.getenv("UNDERSTUDY_CA");
    if (agent == null || token == null || ca == null) {
      for (String dir : new String[] {"demo-cluster", ".understudy"}) {
        Path env = Path.of(dir, "cluster.env");
        if (Files.isRegularFile(env)) {
          try {
            for (String line : Files.readAllLines(env)) {
              if (agent == null && line.startsWith("UNDERSTUDY_AGENT=")) agent = line.substring(17);
              if (token == null && line.startsWith("UNDERSTUDY_TOKEN=")) token = line.substring(17);
              if (ca == null && line.startsWith("UNDERSTUDY_CA=")) ca = line.substring(14);
            }
          } catch (IOException ignored) {
            // fall through to the error below
          }
          break;
        }
      }
    }
    if (agent == null) throw new CliException(2, "no agent to talk to: pass --agent URL or set UNDERSTUDY_AGENT");
    if (agent.startsWith("http://") || ca == null || ca.isBlank()) ca = null;
    return new Client(agent, token, ca);
  }

  public JsonNode get(String path) { return send("GET", path, null); }

  /** Reads a server-sent event stream until it ends, calling {@code onEvent(kind, data)} for each event. */
  public void stream(String path, java.util.function.BiConsumer<String, String> onEvent) {
    stream(path, null, (kind, data, id) -> onEvent.accept(kind, data));
  }

  /** One server-sent event: its kind, its data, and its id (null if it has none). */
  public interface StreamListener {
    void event(String kind, String data, String id);
  }

  /**
   * Reads a server-sent event stream until it ends; {@code lastEventId}: the id of the last event this client got,
   * which the agent resumes after (every stored event after it first), or null for live events only.
   */
  public void stream(String path, String lastEventId, StreamListener onEvent) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Accept", "text/event-stream");
    if (token != null) b.header("Authorization", "Bearer " + token); // reads need it where cluster.openReads is off
    if (lastEventId != null) b.header("Last-Event-ID", lastEventId);
    HttpRequest req = b.build();
    try {
      HttpResponse<java.util.stream.Stream<String>> r = http.send(req, HttpResponse.BodyHandlers.ofLines());
      String[] kind = {"message"};
      String[] id = {null};
      StringBuilder data = new StringBuilder();
      r.body().forEach(line -> {
        if (line.startsWith("event:")) {
          kind[0] = line.substring(6).trim();
        } else if (line.startsWith("id:")) {
          id[0] = line.substring(3).trim();
        } else if (line.startsWith("data:")) {
          data.append(line.substring(5).trim());
        } else if (line.isEmpty() && data.length() > 0) {
          onEvent.event(kind[0], data.toString(), id[0]);
          data.setLength(0);
          kind[0] = "message";
          id[0] = null;
        }
      });
    } catch (IOException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(1, "interrupted");
    }
  }

  public JsonNode post(String path, Object body) { return send("POST", path, body); }

  public JsonNode put(String path, Object body) { return send("PUT", path, body); }

  public JsonNode delete(String path) { return send("DELETE", path, null); }

  /** A GET whose 404 is an answer (null), not an error. */
  public JsonNode find(String path) {
    try {
      return get(path);
    } catch (CliException e) {
      if (e.status() == 404) return null;
      throw e;
    }
  }

  public JsonNode send(String method, String path, Object body) {
    // a membership change waits for the new server's replica to catch up and for the group to settle: give it longer
    boolean membership = path.startsWith("/api/v1/servers") && !method.equals("GET");
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(membership ? 60 : 10))
        .header("Accept", "application/json");
    if (token != null) b.header("Authorization", "Bearer " + token);
    if (body != null) {
      b.header("Content-Type", "application/json");
      b.method(method, HttpRequest.BodyPublishers.ofString(body instanceof String s ? s : Json.write(body)));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      JsonNode node = r.body() == null || r.body().isBlank() ? null : Json.MAPPER.readTree(r.body());
      if (r.statusCode() >= 400) {
        String msg = node != null && node.has("error") ? node.get("error").asText() : r.body();
        throw new CliException(r.statusCode() == 400 || r.statusCode() == 404 ? 2 : 1, msg + " (HTTP " + r.statusCode() + ")", r.statusCode());
      }
      return node;
    } catch (IOException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(1, "interrupted");
    }
  }

  private CliException unreachable(IOException e) {
    if (e instanceof javax.net.ssl.SSLHandshakeException) {
      return new CliException(1, "the agent at " + base + " presents a certificate this client does not trust (" + e.getMessage()
          + "): pass --ca with the cluster CA's certificate, or set UNDERSTUDY_CA");
    }
    return new CliException(1, "cannot reach the agent at " + base + ": " + e);
  }
}
