package dev.understudy.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.understudy.testing.NetLab;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Real agents forwarding in the kernel ({@link KernelClusterDrill}), each in a network namespace this test makes and
 * removes, with ip_forward on inside those namespaces only; skipped, saying why, without namespaces or nft.
 */
class KernelClusterTest {
  @Test
  void clientsOfAnotherMachineFollowTheAppThroughTheKernel() throws Exception {
    Optional<String> why = NetLab.unavailable();
    assumeTrue(why.isEmpty(), () -> "skipped: " + why.orElse(""));
    assumeTrue(KernelRoutes.nft().isPresent(), "skipped: nftables' nft command is not installed");
    Path dir = Files.createDirectories(Path.of("target", "kernel-cluster-" + System.currentTimeMillis()).toAbsolutePath());
    Path out = dir.resolve("drill.log");
    boolean passed;
    try (NetLab lab = NetLab.create(KernelClusterDrill.NODES)) {
      for (String node : List.of("a", "b", "c")) {
        Process p = new ProcessBuilder(lab.in(node, List.of("sysctl", "-qw", "net.ipv4.ip_forward=1"))).inheritIO().start();
        assertThat(p.waitFor()).as("ip_forward on in namespace %s", node).isZero();
      }
      String java = ProcessHandle.current().info().command().orElse("java");
      Process p = new ProcessBuilder(lab.in("x", List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
          KernelClusterDrill.class.getName(), lab.prefix(), dir.toString())))
          .redirectErrorStream(true).redirectOutput(out.toFile()).start();
      boolean done = p.waitFor(4, TimeUnit.MINUTES);
      if (!done) p.destroyForcibly().waitFor();
      String log = Files.readString(out, StandardCharsets.UTF_8);
      log.lines().filter(l -> l.startsWith("kernel cluster:")).forEach(System.out::println);
      passed = done && p.exitValue() == 0;
      assertThat(passed).as("the kernel cluster drill failed; its output and the agents' logs are in %s:%n%s", dir,
          String.join("\n", log.lines().skip(Math.max(0, log.lines().count() - 60)).toList())).isTrue();
    }
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }
}
