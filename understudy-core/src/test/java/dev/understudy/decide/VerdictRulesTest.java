package dev.understudy.decide;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.decide.Verdict;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every combination of channel states (FIG. 7A: both channels must agree before DOWN). */
class VerdictRulesTest {
  @ParameterizedTest(name = "lan={0} disk={1} leaseExpired={2} uplink={3} -> {4}")
  @CsvSource({
      "true,  NOT_CONFIGURED, false, true,  UP",
      "true,  ALIVE,          false, true,  UP",
      "true,  STALE,          false, true,  UP",
      "true,  FENCED,         false, true,  DOWN",
      "true,  ALIVE,          true,  true,  DOWN",
      "true,  ALIVE,          false, false, UNHEALTHY",
      "true,  NOT_CONFIGURED, false, false, UNHEALTHY",
      "false, ALIVE,          false, true,  SUSPECT",
      "false, ALIVE,          false, false, SUSPECT",
      "false, STALE,          false, true,  DOWN",
      "false, FENCED,         false, true,  DOWN",
      "false, NOT_CONFIGURED, false, true,  DOWN",
      "false, ALIVE,          true,  true,  DOWN",
      "false, NOT_CONFIGURED, true,  false, DOWN",
  })
  void table(boolean lan, DiskState disk, boolean leaseExpired, boolean uplink, Verdict expected) {
    assertThat(VerdictRules.verdict(lan, disk, leaseExpired, uplink)).isEqualTo(expected);
  }
}
