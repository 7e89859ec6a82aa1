package dev.understudy.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scripted scenarios of the core, one per patent flow, with readable golden output (in the manner of etcd raft's
 * {@code testdata/*.txt} interaction tests). A script is blocks of {@code command}, {@code ----}, expected output,
 * separated by blank lines; {@code #} starts a comment. After a deliberate change, regenerate the expected blocks with
 * {@code mvn test -pl understudy-core -Dtest=CoreScriptTest -Dscripts.rewrite=true} and read the diff.
 */
class CoreScriptTest {
  static final Path DIR = Path.of("src/test/resources/core-scripts");

  static Stream<Path> scripts() throws IOException {
    try (var files = Files.list(DIR)) {
      return files.filter(p -> p.toString().endsWith(".txt")).sorted().toList().stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scripts")
  void script(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    CoreScript script = new CoreScript();
    StringBuilder rewritten = new StringBuilder();
    List<String> mismatches = new ArrayList<>();
    int i = 0;
    while (i < lines.size()) {
      String line = lines.get(i);
      if (line.isBlank() || line.startsWith("#")) {
        rewritten.append(line).append('\n');
        i++;
        continue;
      }
      String command = line;
      i++;
      if (i >= lines.size() || !lines.get(i).equals("----")) throw new IllegalStateException(file + ":" + i + ": expected ---- after " + command);
      i++;
      List<String> expected = new ArrayList<>();
      while (i < lines.size() && !lines.get(i).isBlank()) expected.add(lines.get(i++));
      String actual = script.run(command);
      if (!actual.equals(String.join("\n", expected))) {
        mismatches.add(file.getFileName() + ": " + command + "\n--- expected\n" + String.join("\n", expected) + "\n--- actual\n" + actual);
      }
      rewritten.append(command).append("\n----\n").append(actual).append('\n');
    }
    if (Boolean.getBoolean("scripts.rewrite")) {
      Files.writeString(file, rewritten.toString(), StandardCharsets.UTF_8);
      return;
    }
    assertThat(mismatches).as("scenario %s (regenerate with -Dscripts.rewrite=true after a deliberate change)", file).isEmpty();
  }
}
