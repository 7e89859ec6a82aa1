package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.store.Json;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "simulate", mixinStandardHelpOptions = true, description = "Show where every app of a server would go if it failed now.",
    footer = {"", "Example:", "  understudy simulate --fail s1", "", "Exit code 3 when some app would find no server."})
final class SimulateCommand implements Callable<Integer> {
  @Mixin ConnectionOptions conn;
  @Option(names = "--fail", required = true, description = "the server to imagine failing") String fail;
  @Option(names = "--json") boolean json;

  @Override
  public Integer call() throws Exception {
    JsonNode r = conn.client().get("/api/v1/simulate?fail=" + fail);
    if (json) {
      System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r));
    } else {
      if (r.path("moves").isEmpty()) System.out.println(fail + " hosts no app: nothing would move.");
      for (JsonNode m : r.path("moves")) {
        if (m.hasNonNull("to")) System.out.println(m.path("tag").asText() + " -> " + m.path("to").asText());
        else System.out.println(m.path("tag").asText() + " -> NO SERVER (" + m.path("reason").asText() + ")");
      }
    }
    return r.path("stranded").isEmpty() ? 0 : 3;
  }
}
