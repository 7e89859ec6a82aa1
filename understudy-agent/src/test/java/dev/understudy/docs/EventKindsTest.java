package dev.understudy.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.decide.Verdict;
import dev.understudy.model.EventKinds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The catalog of event kinds is what the code raises: every kind written where an event is made is in it, and every
 * kind in it is raised somewhere (#24: {@code notifications.kinds} is checked against it; the README lists it).
 */
class EventKindsTest {
  /** The lines where events are made: an Event, the core's event(...), the API's audit(...), a hand-over's kind. */
  static final Pattern MAKES_EVENT = Pattern.compile("new Event\\(|\\bevent\\(|audit\\(ctx, |h\\.kind = |elsewhere\\(h, |change\\(ctx, ");
  static final Pattern KIND = Pattern.compile("\"([A-Z][A-Z_]+)\"");

  static Set<String> raised() throws Exception {
    Set<String> kinds = new TreeSet<>();
    Path root = Path.of("..").toAbsolutePath().normalize();
    for (String module : new String[] {"understudy-core", "understudy-agent"}) {
      try (Stream<Path> files = Files.walk(root.resolve(module).resolve("src/main/java"))) {
        for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
          for (String line : Files.readAllLines(f)) {
            if (!MAKES_EVENT.matcher(line).find()) continue;
            Matcher m = KIND.matcher(line);
            while (m.find()) kinds.add(m.group(1));
          }
        }
      }
    }
    kinds.remove("WAKE"); // the event writer's own wake-up marker, never written
    kinds.remove("SERVER_"); // prefixes: "SERVER_" + a verdict, "OPERATOR_" + an action, completed below
    kinds.remove("OPERATOR_");
    for (Verdict v : Verdict.values()) kinds.add("SERVER_" + v);
    for (String action : new String[] {"UNLOAD", "LOAD", "MOVE", "APPROVE", "RESET"}) kinds.add("OPERATOR_" + action);
    return kinds;
  }

  @Test
  void theCatalogIsWhatTheCodeRaises() throws Exception {
    assertThat(EventKinds.ALL.keySet()).containsExactlyInAnyOrderElementsOf(raised());
  }

  @Test
  void theReadmeListsEveryKind() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    for (String k : EventKinds.ALL.keySet()) assertThat(readme).as("README names %s", k).contains("`" + k + "`");
  }
}
