package dev.understudy.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/**
 * Replays one schedule of {@link SimulationTest} with its whole trace:
 * {@code mvn test -pl understudy-agent -Dtest=SimReplayTest -Dsim.seed=378 -Dsim.servers=5 [-Dsim.mutant=NO_R4]}; the trace
 * goes to {@code understudy-agent/target/sim-replay-SEED.txt}.
 */
class SimReplayTest {
  @Test
  void replay() throws java.io.IOException {
    String seed = System.getProperty("sim.seed");
    assumeTrue(seed != null, "set -Dsim.seed to replay a schedule");
    int servers = Integer.getInteger("sim.servers", 3);
    String mutant = System.getProperty("sim.mutant");
    SimCluster c = new SimCluster(Long.parseLong(seed), servers, 4,
        mutant == null ? EnumSet.noneOf(SimCluster.Mutant.class) : EnumSet.of(SimCluster.Mutant.valueOf(mutant)));
    SimulationTest.run(c);
    java.nio.file.Path out = java.nio.file.Path.of("target", "sim-replay-" + seed + ".txt");
    java.nio.file.Files.writeString(out, String.join("\n", c.trace) + "\n" + c.dump());
    System.out.println("trace: " + out.toAbsolutePath());
    assertThat(c.violations).isEmpty();
    assertThat(c.notRunning()).isEmpty();
  }
}
