package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "export", mixinStandardHelpOptions = true,
    description = "Print apps' definitions as YAML, as `app apply -f` reads them (every app without a tag).",
    footer = {"", "Needs the cluster token: other credentials see environment values as \"(set)\".", "",
        "Example:", "  understudy app export > apps.yaml"})
final class AppExport implements Callable<Integer> {
  @Mixin ConnectionOptions conn;

  @Parameters(arity = "0..*", description = "the apps' tags (default: every app)")
  List<String> tags = new ArrayList<>();

  @Override
  public Integer call() {
    Client c = conn.client();
    List<JsonNode> apps = new ArrayList<>();
    if (tags.isEmpty()) {
      for (JsonNode a : c.get("/api/v1/apps")) apps.add(a);
    } else {
      for (String t : tags) apps.add(c.get("/api/v1/apps/" + t));
    }
    List<ObjectNode> defs = new ArrayList<>();
    for (JsonNode a : apps) {
      for (JsonNode v : a.path("command").path("env")) {
        if (v.asText().equals("(set)")) {
          throw new CliException(1, a.path("tag").asText() + "'s environment values are hidden from this credential:"
              + " export with the cluster token");
        }
      }
      defs.add(AppFiles.definitionOf(a));
    }
    System.out.print(AppFiles.yaml(defs));
    return 0;
  }
}
