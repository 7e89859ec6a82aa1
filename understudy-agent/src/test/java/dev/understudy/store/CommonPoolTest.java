package dev.understudy.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link RaftStore#pooledAsyncSteps}: on a machine of 2 cores or fewer the common pool gets two threads, so that
 * Ratis' async steps do not start a new thread each (CompletableFuture's default executor with a pool of one). Each
 * case runs in a JVM of its own, told how many cores it has, because the pool is sized once, when first used.
 */
class CommonPoolTest {
  /** Prints the common pool's parallelism after the agent's setting, as Main makes it first thing. */
  public static void main(String[] args) {
    RaftStore.pooledAsyncSteps();
    System.out.println(ForkJoinPool.getCommonPoolParallelism());
  }

  @Test
  void aSmallMachineGetsAPoolOfTwoAndALargerOneKeepsTheJvmDefault() throws Exception {
    assertThat(probe(1)).isEqualTo("2");
    assertThat(probe(2)).isEqualTo("2");
    assertThat(probe(4)).isEqualTo("3");
  }

  @Test
  void anOperatorsOwnSettingWins() throws Exception {
    assertThat(probe(2, "-Djava.util.concurrent.ForkJoinPool.common.parallelism=1")).isEqualTo("1");
  }

  private static String probe(int cores, String... jvmOptions) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        "-XX:ActiveProcessorCount=" + cores, "-XX:TieredStopAtLevel=1"));
    cmd.addAll(List.of(jvmOptions));
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), CommonPoolTest.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the probe JVM exits").isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.exitValue()).as("probe output: %s", out).isZero();
    return out.lines().reduce((a, b) -> b).orElse("");
  }
}
