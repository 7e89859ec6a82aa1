package dev.understudy.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.agent.AgentConfig;
import dev.understudy.agent.ConfigReference;
import dev.understudy.cli.Main;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The configuration and CLI references are generated from the code: docs/CONFIGURATION.md from {@link ConfigReference},
 * docs/CLI.md from the commands' own help. These tests keep them equal; after a deliberate change, regenerate with
 * {@code mvn test -pl understudy-agent -Dtest=ReferenceDocsTest -Ddocs.rewrite=true}.
 */
class ReferenceDocsTest {
  static final Path DOCS = Path.of("..", "docs");

  @Test
  void everyConfigurationKeyIsDocumented() {
    Set<String> keys = new TreeSet<>();
    collect("", AgentConfig.class, keys);
    Set<String> documented = new TreeSet<>();
    ConfigReference.ROWS.forEach(r -> documented.add(r.key()));
    assertThat(documented).as("rows of ConfigReference").isEqualTo(keys);
  }

  @Test
  void configurationReferenceIsCurrent() throws IOException {
    check(DOCS.resolve("CONFIGURATION.md"), ConfigReference.markdown());
  }

  @Test
  void cliReferenceIsCurrent() throws IOException {
    StringBuilder b = new StringBuilder("# CLI reference\n\n<!-- generated from the commands' help by ReferenceDocsTest; edit the"
        + " commands, not this -->\n\nEvery command takes `--help`. Commands that talk to a cluster take `--agent URL` and `--token-file"
        + " FILE` (or `UNDERSTUDY_AGENT`, `UNDERSTUDY_TOKEN`; never the token itself, which `ps` would show; from a directory holding a `local` cluster they find it by"
        + " themselves).\n");
    CommandLine root = new CommandLine(new Main());
    render(root, b);
    check(DOCS.resolve("CLI.md"), b.toString());
  }

  private static void render(CommandLine cmd, StringBuilder b) {
    if (cmd.getCommandName().equals("help")) return;
    String name = cmd.getCommandSpec().qualifiedName(" ");
    b.append("\n## ").append(name).append("\n\n```text\n")
        .append(cmd.getUsageMessage(CommandLine.Help.Ansi.OFF).stripTrailing()).append("\n```\n");
    for (CommandLine sub : cmd.getSubcommands().values()) {
      if (sub.getCommandSpec().parent() == cmd.getCommandSpec() && sub.getCommandName().equals(sub.getCommandSpec().name())) render(sub, b);
    }
  }

  private static void collect(String prefix, Class<?> type, Set<String> out) {
    for (RecordComponent c : type.getRecordComponents()) {
      String key = prefix + c.getName();
      Class<?> t = c.getType();
      if (t.isRecord()) {
        collect(key + ".", t, out);
      } else if (List.class.isAssignableFrom(t) && elementType(c.getGenericType()) instanceof Class<?> e && e.isRecord()) {
        collect(key + "[].", e, out);
      } else {
        out.add(key);
      }
    }
  }

  private static Type elementType(Type t) {
    return t instanceof ParameterizedType p ? p.getActualTypeArguments()[0] : Object.class;
  }

  private static void check(Path file, String generated) throws IOException {
    if (Boolean.getBoolean("docs.rewrite")) {
      Files.writeString(file, generated);
      return;
    }
    String onDisk = Files.exists(file) ? Files.readString(file) : "";
    List<String> hint = new ArrayList<>();
    hint.add(file + " is out of date: regenerate with -Ddocs.rewrite=true and commit it");
    assertThat(onDisk).as(String.join("", hint)).isEqualTo(generated);
  }
}
