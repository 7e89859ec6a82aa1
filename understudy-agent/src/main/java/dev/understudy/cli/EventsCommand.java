package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "events", mixinStandardHelpOptions = true, description = "Show the cluster's event history (failures, failovers, operator actions).",
    footer = {"", "Example:", "  understudy events --limit 20", "  understudy events --follow"})
final class EventsCommand implements Callable<Integer> {
  static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

  @Mixin ConnectionOptions conn;

  @Option(names = "--limit", defaultValue = "50")
  int limit;

  @Option(names = "--follow", description = "keep printing new events until interrupted")
  boolean follow;

  @Option(names = "--json", description = "one JSON event per line") boolean json;

  @Override
  public Integer call() throws Exception {
    Client c = conn.client();
    String last = null;
    for (JsonNode e : c.get("/api/v1/events?limit=" + limit)) {
      print(e);
      last = id(e);
    }
    if (!follow) return 0;
    // the live stream (server-sent events), resumed after the last event printed: after the listing above, and
    // after every reconnect (the agent went away, or this client fell behind), nothing is skipped
    String[] resumeAfter = {last};
    while (true) {
      try {
        c.stream("/api/v1/events/stream", resumeAfter[0], (kind, data, id) -> {
          if (!kind.equals("event")) return;
          try {
            print(dev.understudy.store.Json.MAPPER.readTree(data));
            if (id != null) resumeAfter[0] = id;
          } catch (java.io.IOException ignored) {
            // not an event
          }
        });
      } catch (CliException e) {
        System.err.println("(stream lost: " + e.getMessage() + "; reconnecting)");
      }
      Thread.sleep(1000);
    }
  }

  /** An event's id in the stream: its database key without the prefix (see Keys.event). */
  static String id(JsonNode e) {
    return dev.understudy.model.Keys.eventStreamId(e.path("timeMillis").asLong(), e.path("id").asText());
  }

  private void print(JsonNode e) {
    System.out.println(json ? e.toString() : format(e));
    System.out.flush();
  }

  static String format(JsonNode e) {
    return TIME.format(Instant.ofEpochMilli(e.path("timeMillis").asLong())) + "  " + String.format("%-17s", e.path("kind").asText())
        + " " + e.path("message").asText();
  }
}
