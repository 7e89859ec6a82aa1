package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
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
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  public Client(String base, String token) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.token = token;
  }

  /** --agent, else UNDERSTUDY_AGENT, else the first agent of the local cluster in ./demo-cluster or ./.understudy. */
  static Client of(String agentOpt, String tokenOpt) {
    String agent = agentOpt != null ? agentOpt : System.getenv("UNDERSTUDY_AGENT");
    String token = tokenOpt != null ? tokenOpt : System.getenv("UNDERSTUDY_TOKEN");
    if (agent == null || token == null) {
      for (String dir : new String[] {"demo-cluster", ".understudy"}) {
        Path env = Path.of(dir, "cluster.env");
        if (Files.isRegularFile(env)) {
          try {
            for (String line : Files.readAllLines(env)) {
              if (agent == null && line.startsWith("UNDERSTUDY_AGENT=")) agent = line.substring(17);
              if (token == null && line.startsWith("UNDERSTUDY_TOKEN=")) token = line.substring(17);
            }
          } catch (IOException ignored) {
            // fall through to the error below
          }
          break;
        }
      }
    }
    if (agent == null) throw new CliException(2, "no agent to talk to: pass --agent URL or set UNDERSTUDY_AGENT");
    return new Client(agent, token);
  }

  public JsonNode get(String path) { return send("GET", path, null); }

  /** Reads a server-sent event stream until it ends, calling {@code onEvent(kind, data)} for each event. */
  public void stream(String path, java.util.function.BiConsumer<String, String> onEvent) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Accept", "text/event-stream");
    if (token != null) b.header("Authorization", "Bearer " + token); // reads need it where cluster.openReads is off
    HttpRequest req = b.build();
    try {
      HttpResponse<java.util.stream.Stream<String>> r = http.send(req, HttpResponse.BodyHandlers.ofLines());
      String[] kind = {"message"};
      StringBuilder data = new StringBuilder();
      r.body().forEach(line -> {
        if (line.startsWith("event:")) {
          kind[0] = line.substring(6).trim();
        } else if (line.startsWith("data:")) {
          data.append(line.substring(5).trim());
        } else if (line.isEmpty() && data.length() > 0) {
          onEvent.accept(kind[0], data.toString());
          data.setLength(0);
          kind[0] = "message";
        }
      });
    } catch (IOException e) {
      throw new CliException(1, "cannot reach the agent at " + base + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(1, "interrupted");
    }
  }

  public JsonNode post(String path, Object body) { return send("POST", path, body); }

  public JsonNode put(String path, Object body) { return send("PUT", path, body); }

  public JsonNode delete(String path) { return send("DELETE", path, null); }

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
        throw new CliException(r.statusCode() == 400 || r.statusCode() == 404 ? 2 : 1, msg + " (HTTP " + r.statusCode() + ")");
      }
      return node;
    } catch (IOException e) {
      throw new CliException(1, "cannot reach the agent at " + base + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(1, "interrupted");
    }
  }
}
