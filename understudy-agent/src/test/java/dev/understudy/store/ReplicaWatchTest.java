package dev.understudy.store;

import static dev.understudy.store.ReplicaWatch.Outcome.CATCHING_UP;
import static dev.understudy.store.ReplicaWatch.Outcome.CURRENT;
import static dev.understudy.store.ReplicaWatch.Outcome.RECOVERED;
import static dev.understudy.store.ReplicaWatch.Outcome.STALLED;
import static dev.understudy.store.ReplicaWatch.Outcome.STILL_STALLED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ReplicaWatchTest {
  private static final long S = 1_000_000_000L;

  @Test
  void aReplicaThatAppliedItsOwnWritesIsCurrent() {
    ReplicaWatch w = new ReplicaWatch(10 * S);
    assertThat(w.observe(5, 5, 0)).isEqualTo(CURRENT);
    assertThat(w.observe(5, 5, 100 * S)).isEqualTo(CURRENT);
    assertThat(w.stalled()).isFalse();
  }

  @Test
  void aReplicaBehindButMovingIsCatchingUpHoweverLong() {
    ReplicaWatch w = new ReplicaWatch(10 * S);
    for (int i = 0; i < 100; i++) assertThat(w.observe(i, 1000, i * 5 * S)).isEqualTo(CATCHING_UP);
    assertThat(w.stalled()).isFalse();
  }

  @Test
  void aReplicaStuckBehindIsReportedOnceThenRecoveryOnce() {
    ReplicaWatch w = new ReplicaWatch(10 * S);
    assertThat(w.observe(264, 300, 0)).isEqualTo(CATCHING_UP);
    assertThat(w.observe(264, 900, 9 * S)).isEqualTo(CATCHING_UP);
    assertThat(w.observe(264, 1300, 10 * S)).isEqualTo(STALLED);
    assertThat(w.stalled()).isTrue();
    assertThat(w.observe(264, 1400, 30 * S)).isEqualTo(STILL_STALLED);
    assertThat(w.observe(265, 1400, 31 * S)).isEqualTo(RECOVERED);
    assertThat(w.stalled()).isFalse();
    assertThat(w.observe(1400, 1400, 32 * S)).isEqualTo(CURRENT);
  }

  @Test
  void catchingUpToTheOwnWritesEndsAStallToo() {
    ReplicaWatch w = new ReplicaWatch(S);
    w.observe(1, 2, 0);
    assertThat(w.observe(1, 2, S)).isEqualTo(STALLED);
    assertThat(w.observe(1, 1, 2 * S)).isEqualTo(RECOVERED);
  }

  @Test
  void theStallTimeMustBePositive() {
    assertThatThrownBy(() -> new ReplicaWatch(0)).isInstanceOf(IllegalArgumentException.class);
  }

  // ---- what a stalled follower does: each defect by its signature, nothing otherwise ----

  @Test
  void aLeaderCountingBeyondThisLogIsAskedToStepDown_ci20261125() {
    // the CI case: the follower came back from kill -9 with its log ending at 349; the leader counted 350
    assertThat(ReplicaWatch.repair(349, 3, 3, 350)).isEqualTo(ReplicaWatch.Repair.ASK_LEADER_TO_STEP_DOWN);
    assertThat(ReplicaWatch.repair(349, -1, -1, 350)).as("even when entry 0 was purged")
        .isEqualTo(ReplicaWatch.Repair.ASK_LEADER_TO_STEP_DOWN);
  }

  @Test
  void aDivergentFirstEntryTheLeaderCountsNothingFromIsRebuilt_formation20261125() {
    // the formation case: entry 0 of term 2 here, of term 1 at the leader, which counts -1 from here
    assertThat(ReplicaWatch.repair(0, 2, 1, -1)).isEqualTo(ReplicaWatch.Repair.REBUILD_FROM_LEADER);
  }

  @Test
  void anythingElseIsOnlyReported() {
    assertThat(ReplicaWatch.repair(0, 2, 1, 0)).as("the leader counts entry 0 from here: dropping it could lose a commit")
        .isEqualTo(ReplicaWatch.Repair.NONE);
    assertThat(ReplicaWatch.repair(5, 1, 1, -1)).as("first entries agree").isEqualTo(ReplicaWatch.Repair.NONE);
    assertThat(ReplicaWatch.repair(5, -1, 1, -1)).as("own entry 0 unknown").isEqualTo(ReplicaWatch.Repair.NONE);
    assertThat(ReplicaWatch.repair(5, 2, -1, -1)).as("leader's entry 0 unknown").isEqualTo(ReplicaWatch.Repair.NONE);
    assertThat(ReplicaWatch.repair(5, 2, 1, Long.MIN_VALUE)).as("leader reports nothing of this replica")
        .isEqualTo(ReplicaWatch.Repair.NONE);
    assertThat(ReplicaWatch.repair(350, 3, 3, 350)).as("match equal to the last index").isEqualTo(ReplicaWatch.Repair.NONE);
  }
}
