package dev.understudy.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.understudy.testing.NetLab;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Kernel forwarding (nftables) against the real kernel, in a network namespace this test makes and removes
 * ({@link KernelRoutesDrill} runs inside it); skipped, saying why, where namespaces or nft are not available.
 */
class KernelRoutesTest {
  @Test
  void theKernelForwardsWhileAHostRunsTheAppAndUserSpaceServesTheRest() throws Exception {
    Optional<String> why = NetLab.unavailable();
    assumeTrue(why.isEmpty(), () -> "skipped: " + why.orElse(""));
    assumeTrue(KernelRoutes.nft().isPresent(), "skipped: nftables' nft command is not installed");
    try (NetLab lab = NetLab.create(List.of("k"))) {
      String java = ProcessHandle.current().info().command().orElse("java");
      Process p = new ProcessBuilder(lab.in("k", List.of(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
          KernelRoutesDrill.class.getName()))).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      boolean done = p.waitFor(2, TimeUnit.MINUTES);
      out.lines().filter(l -> l.startsWith("kernel drill:")).forEach(System.out::println);
      assertThat(done && p.exitValue() == 0).as("the kernel forwarding drill failed:%n%s", out).isTrue();
    }
  }

}
