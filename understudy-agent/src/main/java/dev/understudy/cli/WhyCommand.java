package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.store.Json;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "why", mixinStandardHelpOptions = true, description = "Explain why an app is where it is, and what would happen next.",
    footer = {"", "Example:", "  understudy why web"})
final class WhyCommand implements Callable<Integer> {
  @Mixin ConnectionOptions conn;
  @Parameters(index = "0", description = "the app's tag") String tag;
  @Option(names = "--json") boolean json;

  @Override
  public Integer call() throws Exception {
    JsonNode w = conn.client().get("/api/v1/apps/" + tag + "/why");
    if (json) {
      System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(w));
    } else {
      for (JsonNode line : w.path("explanation")) System.out.println(line.asText());
    }
    return 0;
  }
}
