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
    assertThat(w.stuckNanos(9 * S, 264, 900)).isEqualTo(9 * S);
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
    assertThat(w.stuckNanos(3 * S, 1, 1)).isZero();
  }

  @Test
  void theStallTimeMustBePositive() {
    assertThatThrownBy(() -> new ReplicaWatch(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
