package dev.understudy.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.understudy.testing.NetLab;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Network partitions of real agent processes ({@link PartitionDrill}), each agent in a network namespace this test
 * creates and removes; skipped, saying why, where namespaces cannot be made (not root, no iproute2).
 */
class PartitionTest {
  @Test
  void aCutOffHostStopsItsAppBeforeAnyOtherStartsIt() throws Exception {
    Optional<String> why = NetLab.unavailable();
    assumeTrue(why.isEmpty(), () -> "skipped: " + why.orElse(""));
    // kept when the drill fails (agent logs, the history, the drill's output), removed when it passes
    Path dir = Files.createDirectories(Path.of("target", "partition-" + System.currentTimeMillis()).toAbsolutePath());
    Path out = dir.resolve("drill.log");
    try (NetLab lab = NetLab.create(PartitionDrill.NODES)) {
      String java = ProcessHandle.current().info().command().orElse("java");
      List<String> cmd = new ArrayList<>(lab.in("x", List.of(java, "-Xmx256m",
          "-Dpartition.seed=" + System.getProperty("partition.seed", "20261201"),
          "-Dpartition.seconds=" + System.getProperty("partition.seconds", "10"),
          "-cp", System.getProperty("java.class.path"), PartitionDrill.class.getName(), lab.prefix(), dir.toString())));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
      boolean done = p.waitFor(5 + Long.getLong("partition.seconds", 10) / 60, TimeUnit.MINUTES);
      if (!done) p.destroyForcibly().waitFor();
      String log = Files.readString(out, StandardCharsets.UTF_8);
      log.lines().filter(l -> l.startsWith("partition drill:")).forEach(System.out::println);
      assertThat(done && p.exitValue() == 0).as("the partition drill failed; its output (%s):%n%s", out, tail(log)).isTrue();
    }
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }

  private static String tail(String log) {
    List<String> lines = log.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
  }
}
