package dev.understudy.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.decide.Action;
import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.decide.DiskState;
import dev.understudy.decide.Instance;
import dev.understudy.decide.Settings;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.AppType;
import dev.understudy.model.Command;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An agent restarted on purpose adopts the apps its earlier life left running, then replays its Raft log: until its
 * replica has applied this life's first lease write, it shows the database as it was at some earlier index (an app not
 * yet added, or at an older host). Found in CI: a round taken in that window stopped the adopted app as "removed from
 * the cluster", and it was started again (a restart is not a failover, but #23 promises that nothing moves).
 */
class RestartedReplicaTest {
  private final NodeCore core = new NodeCore("s1", new Settings(Duration.ofSeconds(2), 3, Duration.ofSeconds(60),
      Duration.ofMillis(500)), n -> {});
  private final long now = 5_000_000_000L;
  private final Map<String, Instance> adopted = Map.of("db", new Instance("db", 3, Instance.Phase.RUNNING, now));

  private List<Action> round(Map<String, App> apps, long applied, long leaseWriteIndex) {
    core.step(new Input.Members(List.of("s1", "s2"), now, DiskState.NOT_CONFIGURED));
    core.step(new Input.Round(now, new ClusterSnapshot(apps, Map.of(), Map.of()), applied, leaseWriteIndex, true, adopted,
        Map.of(), true, Map.of(), Map.of("s1", "10.0.0.1", "s2", "10.0.0.2"), false));
    return core.ready().actions();
  }

  private static App db(String host, long epoch) {
    App a = App.create("db", AppType.CAPABLE, Command.of("x"), "s1", List.of("s2"), List.of(), false, null, Map.of());
    return new App(a.tag(), a.type(), a.command(), host, a.primary(), a.backups(), a.resources(), a.managed(),
        a.autoFailback(), a.service(), epoch, AppState.RUNNING, null, null, false, a.attributes(), 0, 9);
  }

  @Test
  void aReplicaReplayedOnlyUpToBeforeTheAppWasAddedStopsNothingBeforeThisLifesLeaseWrite() {
    assertThat(round(Map.of(), 7, 0)).isEmpty();
  }

  @Test
  void aReplicaShowingAnOlderEpochStopsNothingBeforeThisLifesLeaseWrite() {
    assertThat(round(Map.of("db", db("s1", 2)), 9, 0)).isEmpty();
  }

  @Test
  void onceTheReplicaHasAppliedThisLifesLeaseWriteItsViewDecides() {
    assertThat(round(Map.of(), 40, 40)).singleElement().isInstanceOfSatisfying(Action.Stop.class,
        s -> assertThat(s.reason()).contains("removed"));
  }
}
