package dev.understudy.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.decide.Action;
import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.AppType;
import dev.understudy.model.Command;
import dev.understudy.model.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HandoverTimerTest {
  static final long MS = 1_000_000L;
  final App onS2 = App.create("a0", AppType.CAPABLE, new Command(List.of("x"), null, null, null, null), "s1",
      List.of("s2"), List.of(), true, null, Map.of()).movedTo("s2", AppState.RUNNING, null);

  static ClusterSnapshot db(App a) { return new ClusterSnapshot(Map.of(a.tag(), a), Map.of(), Map.of(), null); }

  @Test
  void aFailbackIsTimedFromTheStopHereToRunningThereAsTheReplicaShowsIt() {
    HandoverTimer t = new HandoverTimer("s2");
    List<Ready.Measure> out = new ArrayList<>();
    t.stopping("a0", 1_000 * MS);
    App handed = onS2.movedTo("s1", AppState.STARTING, "failback");
    Action.Commit c = t.committing(Action.Commit.of(handed, new Event(null, 0, "FAILBACK", null, "a0", "failback", Map.of())),
        1_300 * MS);
    assertThat(c.event().details()).containsEntry("stopMs", "300");
    // the replica has not applied the hand-over yet: it still shows the app here, at the old epoch
    t.completed(db(onS2), 1_310 * MS, out);
    t.completed(db(handed), 1_400 * MS, out); // applied: s1 starting
    assertThat(out).isEmpty();
    t.completed(db(handed.withState(AppState.RUNNING, null)), 2_000 * MS, out);
    assertThat(out).containsExactly(new Ready.Measure(Ready.Measure.Kind.FAILBACK, 1.0));
  }

  @Test
  void aHandOverThatAnotherWriteSupersededIsNotTimed() {
    HandoverTimer t = new HandoverTimer("s2");
    List<Ready.Measure> out = new ArrayList<>();
    App handed = onS2.movedTo("s1", AppState.STARTING, "move");
    t.committing(Action.Commit.of(handed, new Event(null, 0, "MOVE", null, "a0", "move", Map.of())), 0);
    t.completed(db(handed.movedTo("s2", AppState.RUNNING, "failover")), 5_000 * MS, out);
    t.completed(db(handed.movedTo("s2", AppState.RUNNING, "failover").movedTo("s1", AppState.RUNNING, null)), 6_000 * MS, out);
    assertThat(out).isEmpty();
  }
}
