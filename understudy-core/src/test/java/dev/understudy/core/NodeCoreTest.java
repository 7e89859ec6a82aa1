package dev.understudy.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Rules of the core that its scripted scenarios show, checked by turning each off. */
class NodeCoreTest {
  private static final List<String> HANDED_HOME_THEN_DOUBT = List.of(
      "node self=s1 servers=s1,s2 failbackHold=2s",
      "app a0 primary=s2 backups=s1 host=s1 state=RUNNING epoch=2 displaced=true autoFailback=true",
      "time +2s", "round", "replica stall");

  /** unknown-outcome.txt with R4b: nothing starts from the stale view. */
  @Test
  void aWriteWithAnUnknownOutcomeHoldsTheStartsOfItsApp() {
    assertThat(after("result unknown applied")).doesNotContain("start a0");
  }

  /** The same schedule with R4b off (the lost reply forgotten): the stale view restarts a0 at the old epoch. */
  @Test
  void withoutR4bTheOldHostRestartsAnAppItHandedAway() {
    assertThat(after("result lost applied")).contains("start a0@2");
  }

  private static String after(String result) {
    CoreScript s = new CoreScript();
    HANDED_HOME_THEN_DOUBT.forEach(s::run);
    s.run(result);
    s.run("peer s2 lan=lost");
    return s.run("round");
  }
}
