package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "apply", mixinStandardHelpOptions = true,
    description = "Create or change apps from definition files (YAML or JSON, several per file, or a directory of them).",
    footer = {"", "Every definition is checked by the cluster before any is written: one bad definition changes nothing.",
        "Apps the files do not name are left alone.", "",
        "Examples:", "  understudy app apply -f apps/ --dry-run", "  understudy app export db > db.yaml && understudy app apply -f db.yaml"})
final class AppApply implements Callable<Integer> {
  @Mixin ConnectionOptions conn;

  @Option(names = {"-f", "--file"}, required = true, description = "a definition file, or a directory of them")
  Path file;

  @Option(names = "--dry-run", description = "print what would change (field by field) and change nothing")
  boolean dryRun;

  private record Plan(AppFiles.Definition def, JsonNode current, JsonNode next, List<String> changes) {}

  @Override
  public Integer call() {
    List<AppFiles.Definition> defs = AppFiles.read(file);
    Client c = conn.client();
    List<Plan> plans = new ArrayList<>();
    for (AppFiles.Definition d : defs) {
      String tag = d.spec().tag();
      JsonNode current = c.find("/api/v1/apps/" + tag);
      JsonNode checked;
      try {
        checked = current == null ? c.post("/api/v1/apps?dryRun=true", d.spec())
            : c.put("/api/v1/apps/" + tag + "?dryRun=true", d.spec());
      } catch (CliException e) {
        throw new CliException(e.exitCode, d.where() + ": app " + tag + ": " + e.getMessage() + "; nothing was changed");
      }
      JsonNode next = AppFiles.definitionOf(checked.path("app"));
      List<String> changes = current == null ? List.of() : AppFiles.diff(AppFiles.definitionOf(current), next);
      plans.add(new Plan(d, current, next, changes));
    }
    int create = 0;
    int change = 0;
    for (Plan p : plans) {
      String tag = p.def().spec().tag();
      if (p.current() == null) {
        create++;
        System.out.println((dryRun ? "would create " : "create ") + tag);
      } else if (!p.changes().isEmpty()) {
        change++;
        System.out.println((dryRun ? "would change " : "change ") + tag);
        for (String line : p.changes()) System.out.println("    " + line);
      } else {
        System.out.println("unchanged " + tag);
      }
      if (dryRun) continue;
      if (p.current() == null) {
        c.post("/api/v1/apps", p.def().spec());
      } else if (!p.changes().isEmpty()) {
        // conditional on the version compared against: a change made meanwhile is refused, not overwritten
        c.put("/api/v1/apps/" + tag + "?version=" + p.current().path("version").asLong(), p.def().spec());
      }
    }
    System.out.printf("%s%d to create, %d to change, %d unchanged%n", dryRun ? "dry run, nothing changed: " : "",
        create, change, plans.size() - create - change);
    return 0;
  }

}
