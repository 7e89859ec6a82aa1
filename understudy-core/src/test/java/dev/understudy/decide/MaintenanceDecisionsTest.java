package dev.understudy.decide;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.decide.Action.Commit;
import dev.understudy.decide.Action.Start;
import dev.understudy.decide.Action.Stop;
import dev.understudy.decide.Instance.Phase;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.AppType;
import dev.understudy.model.Command;
import dev.understudy.model.Maintenance;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** #22: cluster maintenance mode, drained servers and unmanaged apps, as the decision rules see them. */
class MaintenanceDecisionsTest extends DeciderFixture {
  @Test
  void inMaintenanceNothingStartsAndNobodyTakesOverFromADeadHost() {
    allUp();
    maintenance = Maintenance.NONE.withCluster(true);
    assertThat(decide("s1")).as("the host starts nothing").isEmpty();
    app = app.withState(AppState.RUNNING, null);
    peer("s1", Verdict.DOWN, 1, true);
    assertThat(decide("s2")).as("the first backup takes nothing over").isEmpty();
    maintenance = maintenance.withCluster(false);
    assertThat(decide("s2")).as("on leaving it, the takeover happens").singleElement().isInstanceOfSatisfying(Commit.class,
        c -> assertThat(c.updated().host()).isEqualTo("s2"));
  }

  @Test
  void inMaintenanceARunningAppKeepsRunningButOneThatMustNotRunIsStopped() {
    allUp();
    app = app.withState(AppState.RUNNING, null);
    running(1);
    maintenance = Maintenance.NONE.withCluster(true);
    assertThat(decide("s1")).as("running, confirmed or not, it is left alone").isEmpty();
    leaseValid = false;
    assertThat(decide("s1")).singleElement().isInstanceOf(Stop.class);
    leaseValid = true;
    instances.put("web", new Instance("web", 1, Phase.RUNNING, 0));
    app = app.movedTo("s2", AppState.RUNNING, "moved before maintenance began");
    assertThat(decide("s1")).as("another server is the host: this copy must go").singleElement().isInstanceOf(Stop.class);
  }

  @Test
  void anUnmanagedAppIsLeftAloneAndOthersAreNot() {
    allUp();
    maintenance = Maintenance.NONE.withUnmanaged("web", true);
    assertThat(decide("s1")).isEmpty();
    maintenance = maintenance.withUnmanaged("web", false);
    assertThat(decide("s1")).containsExactly(new Start(app));
  }

  @Test
  void aDrainedHostHandsItsAppToTheFirstQualifiedServerAndNothingNewGoesThere() {
    allUp();
    app = app.withState(AppState.RUNNING, null);
    running(1);
    maintenance = Maintenance.NONE.withDrained("s1", true);
    assertThat(decide("s1")).as("stop here first").singleElement().isInstanceOf(Stop.class);
    instances.clear();
    assertThat(decide("s1")).singleElement().isInstanceOfSatisfying(Commit.class, c -> {
      assertThat(c.updated().host()).isEqualTo("s2");
      assertThat(c.updated().displaced()).as("it goes home when s1 is resumed").isTrue();
      assertThat(c.event().kind()).isEqualTo("DRAIN");
    });
    assertThat(Decider.qualifies("s1", app, new ClusterSnapshot(apps, servers, readiness, maintenance),
        new LocalView("s2", true, Map.of(), peers, Map.of(), true, Map.of(), true, java.util.Set.of()), settings, now)).isFalse();
  }

  @Test
  void aDrainedServerHandsOverOneAppAtATime() {
    allUp();
    app = app.withState(AppState.RUNNING, null);
    running(1);
    instances.put("db", new Instance("db", 1, Phase.STOPPING, 0));
    apps.put("db", App.create("db", AppType.CAPABLE, Command.of("sleep", "1"), "s1", List.of("s2"), List.of(), false, null, Map.of())
        .movedTo("s1", AppState.RUNNING, "x"));
    maintenance = Maintenance.NONE.withDrained("s1", true);
    assertThat(decide("s1")).as("db is still being stopped here: web waits").noneMatch(a -> a instanceof Stop s && s.tag().equals("web"));
  }

  @Test
  void noFailbackToADrainedPrimaryAndNoOperatorMoveThere() {
    allUp();
    app = app.displacedTo("s2", AppState.RUNNING, "failover");
    running(app.epoch());
    maintenance = Maintenance.NONE.withDrained("s1", true);
    assertThat(decide("s2")).as("its primary is back but drained").isEmpty();
    maintenance = maintenance.withDrained("s1", false);
    assertThat(decide("s2")).as("resumed: the failback goes").singleElement().isInstanceOf(Stop.class);
    app = app.movedTo("s2", AppState.RUNNING, "moved").withTarget("s3");
    running(app.epoch());
    maintenance = maintenance.withDrained("s3", true);
    assertThat(decide("s2")).singleElement().isInstanceOfSatisfying(Commit.class,
        c -> assertThat(c.event().message()).contains("s3 is drained"));
  }
}
