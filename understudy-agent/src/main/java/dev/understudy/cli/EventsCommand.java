package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "events", description = "Show the cluster's event history (failures, failovers, operator actions).",
    footer = {"", "Example:", "  understudy events --limit 20", "  understudy events --follow"})
final class EventsCommand implements Callable<Integer> {
  static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

  @Mixin ConnectionOptions conn;

  @Option(names = "--limit", defaultValue = "50")
  int limit;

  @Option(names = "--follow", description = "keep printing new events until interrupted")
  boolean follow;

  @Override
  public Integer call() throws Exception {
    Client c = conn.client();
    String after = null;
    do {
      JsonNode evs = c.get("/api/v1/events?limit=" + limit + (after == null ? "" : "&after=" + after));
      for (JsonNode e : evs) {
        System.out.println(format(e));
        after = String.format("%015d-%s", e.path("timeMillis").asLong(), e.path("id").asText());
      }
      if (follow) Thread.sleep(500);
    } while (follow);
    return 0;
  }

  static String format(JsonNode e) {
    return TIME.format(Instant.ofEpochMilli(e.path("timeMillis").asLong())) + "  " + String.format("%-17s", e.path("kind").asText())
        + " " + e.path("message").asText();
  }
}
