package dev.understudy.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Whom a stopping leader hands leadership to: never a follower still catching up, whose transfer blocks all writes. */
class ReplicaInfoTest {
  private static ReplicaInfo leader(long commit, Map<String, Long> match) {
    return new ReplicaInfo("LEADER", 3, "s1", commit + 2, commit, commit, match, "RUNNING", 1);
  }

  @Test
  void aFollowerThatHasEverythingCommittedIsChosenOverOneListedFirstThatIsBehind() {
    var info = leader(284, Map.of("s2", 202L, "s3", 285L));
    assertThat(info.handOverTarget(List.of("s1", "s2", "s3"))).contains("s3");
  }

  @Test
  void amongCurrentFollowersTheOneFurthestAlongIsChosen() {
    var info = leader(100, Map.of("s2", 100L, "s3", 102L, "s4", 101L));
    assertThat(info.handOverTarget(List.of("s1", "s2", "s3", "s4"))).contains("s3");
  }

  @Test
  void noneWhenEveryFollowerIsBehind() {
    var info = leader(100, Map.of("s2", 99L, "s3", 40L));
    assertThat(info.handOverTarget(List.of("s1", "s2", "s3"))).isEmpty();
  }

  @Test
  void aListenerNeverLeads() {
    var info = leader(100, Map.of("s2", 90L, "s6", 100L));
    assertThat(info.handOverTarget(List.of("s1", "s2", "s3", "s4", "s5"))).isEmpty();
  }

  @Test
  void aFollowerKnowsNoMatchIndicesAndHandsOverNothing() {
    var info = new ReplicaInfo("FOLLOWER", 3, "s1", 10, 10, 10, Map.of(), "RUNNING", 1);
    assertThat(info.handOverTarget(List.of("s1", "s2", "s3"))).isEmpty();
  }
}
