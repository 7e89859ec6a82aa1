package dev.understudy.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The core decides and does nothing else: no thread, lock, clock, randomness, file, socket, process or environment in
 * any of its sources (every input carries its time; every effect is returned in a Ready). Its Maven dependencies are
 * the JDK and Jackson's annotations, which the build enforces; this keeps the JDK's own I/O out.
 */
class CorePurityTest {
  private static final Pattern FORBIDDEN = Pattern.compile(
      "java\\.io\\.|java\\.nio\\.|java\\.net\\.|java\\.util\\.concurrent|\\bThread\\b|\\bsynchronized\\b|currentTimeMillis"
          + "|nanoTime|Instant\\.now|Clock\\b|LocalDateTime\\.now|\\bRandom\\b|ProcessBuilder|Runtime\\.getRuntime"
          + "|System\\.(out|err|in|getenv|getProperty|exit)|org\\.slf4j|com\\.fasterxml\\.jackson\\.databind");

  @Test
  void theCoreDoesNoIo() throws IOException {
    List<String> found = new ArrayList<>();
    try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        List<String> lines = Files.readAllLines(f);
        for (int i = 0; i < lines.size(); i++) {
          String code = lines.get(i).replaceAll("//.*", "");
          if (code.trim().startsWith("*") || code.trim().startsWith("/*")) continue; // comments may name what is kept out
          if (FORBIDDEN.matcher(code).find()) found.add(f + ":" + (i + 1) + ": " + lines.get(i).trim());
        }
      }
    }
    assertThat(found).as("I/O, threads or clocks in the core").isEmpty();
  }
}
