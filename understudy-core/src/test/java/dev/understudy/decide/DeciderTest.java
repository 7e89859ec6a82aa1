package dev.understudy.decide;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.decide.Action.Commit;
import dev.understudy.decide.Action.Start;
import dev.understudy.decide.Action.Stop;
import dev.understudy.decide.Instance.Phase;
import dev.understudy.decide.Action;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.AppType;
import dev.understudy.model.Command;
import dev.understudy.model.Inventory;
import dev.understudy.model.ServerRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each test names the flow of the patent it checks. Time is a number: no clock, no threads. */
class DeciderTest extends DeciderFixture {

  // FIG. 6: host names this server and nothing runs -> start (also "both failed, host is this primary").
  @Test
  void hostStartsItsAppWhenNothingRuns() {
    allUp();
    assertThat(decide("s1")).containsExactly(new Start(app));
  }

  /** Regression, chaos seed 1942036729771: a restarted agent started epoch 23 from a replica still catching up. */
  @Test
  void staleReplicaNeverStarts_chaos1942036729771() {
    allUp();
    replicaCurrent = false;
    assertThat(decide("s1")).isEmpty();
    replicaCurrent = true;
    assertThat(decide("s1")).containsExactly(new Start(app));
  }

  /**
   * Review finding: a hand-over whose commit outcome is unknown (a leader change, a timeout) may still apply; the old
   * host, seeing itself host in a replica that has not applied it, restarted the app at the old epoch.
   */
  @Test
  void aWriteWithAnUnknownOutcomeHoldsTheStartOfItsApp() {
    allUp();
    uncertain.add("web");
    assertThat(decide("s1")).isEmpty();
    uncertain.clear();
    assertThat(decide("s1")).containsExactly(new Start(app));
  }

  @Test
  void hostConfirmsRunningOnce() {
    allUp();
    running(1);
    var actions = decide("s1");
    assertThat(actions).singleElement().isInstanceOfSatisfying(Commit.class,
        c -> assertThat(c.updated().state()).isEqualTo(AppState.RUNNING));
    app = app.withState(AppState.RUNNING, null);
    assertThat(decide("s1")).isEmpty();
  }

  // FIG. 7A: backup takes over only when the host is DOWN and its lease has expired.
  @Test
  void firstBackupTakesOverFromDownHostWithExpiredLease() {
    allUp();
    peer("s1", Verdict.DOWN, 1, true);
    var actions = decide("s2");
    assertThat(actions).singleElement().isInstanceOfSatisfying(Commit.class, c -> {
      assertThat(c.updated().host()).isEqualTo("s2");
      assertThat(c.updated().epoch()).isEqualTo(2);
      assertThat(c.leaseServer()).isEqualTo("s1");
      assertThat(c.leaseVersion()).isEqualTo(5);
      assertThat(c.updated().version()).as("CAS on the version read").isEqualTo(10);
    });
  }

  @Test
  void noTakeoverWhileHostLeaseMayStillBeHeld() {
    allUp();
    peer("s1", Verdict.DOWN, 1, false);
    assertThat(decide("s2")).isEmpty();
  }

  // F1: a LAN outage while the disk pulse beats is SUSPECT, never a failover.
  @Test
  void suspectHostIsNotTakenOver() {
    allUp();
    peer("s1", Verdict.SUSPECT, 10, false);
    assertThat(decide("s2")).isEmpty();
    assertThat(decide("s3")).isEmpty();
  }

  @Test
  void secondBackupWaitsForTheFirst() {
    allUp();
    peer("s1", Verdict.DOWN, 1, true);
    assertThat(decide("s3")).isEmpty();
  }

  @Test
  void secondBackupTakesOverWhenFirstIsDownToo() {
    allUp();
    peer("s1", Verdict.DOWN, 1, true);
    peer("s2", Verdict.DOWN, 1, true);
    assertThat(decide("s3")).singleElement().isInstanceOfSatisfying(Commit.class,
        c -> assertThat(c.updated().host()).isEqualTo("s3"));
  }

  // Claims 25-28: a backup lacking a resource is skipped; the next one in order takes over.
  @Test
  void backupLackingResourceIsSkipped() {
    allUp();
    peer("s1", Verdict.DOWN, 1, true);
    unmet.put("web", List.of("path:/srv/db")); // s2's own evaluation
    assertThat(decide("s2")).isEmpty();
    unmet.clear();
    readiness.put("s2", Map.of("web", List.of("path:/srv/db"))); // what s3 sees s2 published
    assertThat(decide("s3")).singleElement().isInstanceOfSatisfying(Commit.class, c -> {
      assertThat(c.updated().host()).isEqualTo("s3");
      assertThat(c.event().message()).contains("skipped s2 lacks path:/srv/db");
    });
  }

  @Test
  void hostLackingResourceHandsOverOrGoesUnplaced() {
    allUp();
    unmet.put("web", List.of("exec:/opt/web"));
    assertThat(decide("s1")).singleElement().isInstanceOfSatisfying(Commit.class,
        c -> assertThat(c.updated().host()).isEqualTo("s2"));
    readiness.put("s2", Map.of("web", List.of("exec:/opt/web")));
    readiness.put("s3", Map.of("web", List.of("exec:/opt/web")));
    assertThat(decide("s1")).singleElement().isInstanceOfSatisfying(Commit.class, c -> {
      assertThat(c.updated().state()).isEqualTo(AppState.UNPLACED);
      assertThat(c.updated().host()).isNull();
      assertThat(c.updated().stateReason()).contains("exec:/opt/web");
    });
  }

  @Test
  void unplacedAppIsPlacedByFirstQualifiedServer() {
    allUp();
    app = app.movedTo(null, AppState.UNPLACED, "nobody");
    peer("s1", Verdict.DOWN, 5, true);
    assertThat(decide("s3")).isEmpty();
    assertThat(decide("s2")).singleElement().isInstanceOfSatisfying(Commit.class,
        c -> assertThat(c.updated().host()).isEqualTo("s2"));
  }

  // S1: a process at a stale epoch or on a non-host is stopped before anything else.
  @Test
  void staleInstanceIsStopped() {
    allUp();
    app = app.movedTo("s2", AppState.STARTING, "failover");
    running(1);
    assertThat(decide("s1")).singleElement().isInstanceOf(Stop.class);
  }

  @Test
  void withoutLeaseNothingRunsAndNothingIsTaken() {
    allUp();
    running(1);
    leaseValid = false;
    assertThat(decide("s1")).singleElement().isInstanceOf(Stop.class);
    instances.clear();
    assertThat(decide("s1")).isEmpty();
    peer("s1", Verdict.DOWN, 1, true);
    assertThat(decide("s2")).isEmpty();
  }

  // FIG. 3D / 7B / 8: failback with autoFailback after the hold time; stop first, then hand over.
  @Test
  void autoFailbackStopsThenHandsOver() {
    allUp();
    app = app.displacedTo("s2", AppState.RUNNING, "failover");
    running(2);
    peer("s1", Verdict.UP, 1, false);
    assertThat(decide("s2")).as("primary not UP for the hold time yet").isEmpty();
    peer("s1", Verdict.UP, 3, false);
    assertThat(decide("s2")).singleElement().isInstanceOf(Stop.class);
    instances.clear();
    assertThat(decide("s2")).singleElement().isInstanceOfSatisfying(Commit.class, c -> {
      assertThat(c.updated().host()).isEqualTo("s1");
      assertThat(c.updated().epoch()).isEqualTo(3);
    });
  }

  void restarting(String id) { peers.put(id, new PeerView(id, Verdict.UP, now - 100 * SEC, false, 5, false, true)); }

  /**
   * Chaos seed 91986422732511 (F1): a primary whose agent is stopping to restart still looks UP for a moment (its LAN
   * heartbeats go on while it stops, its parting lease is current). A failback to it then would wait for its next life
   * at best; it waits until that life is here instead.
   */
  @Test
  void noFailbackToAPrimaryThatIsStoppingToRestart() {
    allUp();
    app = app.displacedTo("s2", AppState.RUNNING, "failover");
    running(2);
    restarting("s1");
    assertThat(decide("s2")).as("auto failback waits for the primary's next life").isEmpty();
    app = App.create("web", AppType.CAPABLE, Command.of("sleep", "100"), "s1", List.of("s2", "s3"), List.of(), false, null,
        Map.of()).withVersion(10).displacedTo("s2", AppState.RUNNING, "failover");
    assertThat(decide("s2")).as("nor is an operator asked to approve one").isEmpty();
    peer("s1", Verdict.UP, 3, false);
    assertThat(decide("s2")).singleElement().isInstanceOfSatisfying(Commit.class,
        c -> assertThat(c.updated().state()).isEqualTo(AppState.FAILBACK_PENDING));
  }

  @Test
  void aServerStoppingToRestartIsNoCandidateForATakeover() {
    allUp();
    peer("s1", Verdict.DOWN, 1, true);
    restarting("s2");
    assertThat(decide("s3")).as("s3 takes over: s2, first in order, is restarting").singleElement()
        .isInstanceOfSatisfying(Commit.class, c -> assertThat(c.updated().host()).isEqualTo("s3"));
    assertThat(Decider.qualifies("s2", app, new ClusterSnapshot(apps, servers, readiness, maintenance),
        new LocalView("s3", true, instances, peers, unmet, true, crashes, true, uncertain), settings, now)).isFalse();
  }

  @Test
  void aMoveToAServerStoppingToRestartWaitsForItsNextLife() {
    allUp();
    app = app.withState(AppState.RUNNING, null).withTarget("s3");
    running(1);
    restarting("s3");
    assertThat(decide("s1")).as("neither refused nor carried out while s3 restarts").isEmpty();
    peer("s3", Verdict.UP, 1, false);
    assertThat(decide("s1")).singleElement().isInstanceOf(Stop.class);
  }

  /** Found with the CLI: an operator's move to a backup was immediately "failed back" (or marked pending). */
  @Test
  void operatorMoveIsNeverUndoneByAFailback() {
    allUp();
    app = app.movedTo("s3", AppState.RUNNING, "move to s3");
    running(2);
    assertThat(decide("s3")).isEmpty();
  }

  @Test
  void takeoverMarksTheAppDisplaced() {
    allUp();
    peer("s1", Verdict.DOWN, 1, true);
    assertThat(decide("s2")).singleElement().isInstanceOfSatisfying(Commit.class,
        c -> assertThat(c.updated().displaced()).isTrue());
  }

  // Warm standby (client API issue): an aware app pre-started paused on the server that would take over next.
  App warm() {
    return App.create("web", AppType.AWARE, Command.of("x"), "s1", List.of("s2", "s3"), List.of(), true, null,
        Map.of("understudy.warmStandby", "true")).withVersion(10);
  }

  @Test
  void warmStandbyIsPreStartedOnTheNextHostOnly() {
    allUp();
    app = warm();
    assertThat(decide("s2")).containsExactly(new Start(app, true));
    allUp(); // decide() drops the deciding server from the peers it sees
    assertThat(decide("s3")).isEmpty();
    allUp();
    peer("s2", Verdict.DOWN, 1, true);
    assertThat(decide("s3")).containsExactly(new Start(app, true));
  }

  @Test
  void warmStandbyIsKeptThenPromotedWhenItsServerHosts() {
    allUp();
    app = warm();
    instances.put("web", new Instance("web", 1, Phase.RUNNING, 0, true));
    assertThat(decide("s2")).as("kept while s1 hosts").isEmpty();
    allUp();
    peer("s1", Verdict.DOWN, 1, true);
    assertThat(decide("s2")).as("the standby's server still takes over (found by AwareCounterTest)")
        .singleElement().isInstanceOfSatisfying(Commit.class, c -> assertThat(c.updated().host()).isEqualTo("s2"));
    app = app.displacedTo("s2", AppState.STARTING, "failover");
    assertThat(decide("s2")).containsExactly(new Action.Promote(app));
  }

  @Test
  void warmStandbyIsStoppedWhenItsServerIsNoLongerNext() {
    allUp();
    app = warm();
    instances.put("web", new Instance("web", 1, Phase.RUNNING, 0, true));
    assertThat(decide("s3")).singleElement().isInstanceOf(Stop.class);
  }

  @Test
  void primaryWaitsWhileBackupHosts() {
    allUp();
    app = app.movedTo("s2", AppState.RUNNING, "failover");
    assertThat(decide("s1")).isEmpty();
  }

  // FIG. 7B 864-866: autoFailback off -> pending until an operator approves (target = primary).
  @Test
  void manualFailbackWaitsForApproval() {
    app = App.create("web", AppType.CAPABLE, Command.of("x"), "s1", List.of("s2"), List.of(), false, null, Map.of())
        .displacedTo("s2", AppState.RUNNING, "failover").withVersion(10);
    allUp();
    running(2);
    var actions = decide("s2");
    assertThat(actions).singleElement().isInstanceOfSatisfying(Commit.class,
        c -> assertThat(c.updated().state()).isEqualTo(AppState.FAILBACK_PENDING));
    app = app.withState(AppState.FAILBACK_PENDING, "x");
    assertThat(decide("s2")).isEmpty();
    app = app.withTarget("s1");
    assertThat(decide("s2")).singleElement().isInstanceOf(Stop.class);
  }

  @Test
  void moveToDownServerIsRefused() {
    allUp();
    running(1);
    app = app.withState(AppState.RUNNING, null).withTarget("s3");
    peer("s3", Verdict.DOWN, 1, true);
    assertThat(decide("s1")).singleElement().isInstanceOfSatisfying(Commit.class, c -> {
      assertThat(c.updated().target()).isNull();
      assertThat(c.event().kind()).isEqualTo("MOVE_REFUSED");
    });
  }

  // Claims 57, 61: an app that keeps crashing fails over after the restart limit.
  @Test
  void crashLoopMovesTheApp() {
    allUp();
    crashes.put("web", List.of(now - 3 * SEC, now - 2 * SEC));
    assertThat(decide("s1")).containsExactly(new Start(app));
    crashes.put("web", List.of(now - 3 * SEC, now - 2 * SEC, now - SEC));
    assertThat(decide("s1")).singleElement().isInstanceOfSatisfying(Commit.class,
        c -> assertThat(c.updated().host()).isEqualTo("s2"));
  }

  // ---- failures: backoff, passed over, FAILED (claims 57, 61; Pacemaker's migration-threshold, failure-timeout) ---

  @Test
  void aFailureIsRetriedHereAfterAShortGrowingBackoff() {
    allUp();
    long first = settings.restartBackoff().toNanos();
    crashes.put("web", List.of(now - first / 2));
    assertThat(decide("s1")).as("within the first backoff: wait").isEmpty();
    assertThat(decideAt("s1", first / 2)).containsExactly(new Start(app));
    crashes.put("web", List.of(now - 10 * SEC, now - first));
    assertThat(decide("s1")).as("the second backoff is twice the first").isEmpty();
    assertThat(decideAt("s1", first)).containsExactly(new Start(app));
    assertThat(untilTimed("s1")).as("the loop wakes when the backoff ends").isEqualTo(first);
  }

  @Test
  void afterTheLimitTheServerIsPassedOverAndTheAppMovesAsDisplaced() {
    allUp();
    crashes.put("web", List.of(now - 3 * SEC, now - 2 * SEC, now - SEC));
    assertThat(decide("s1")).singleElement().isInstanceOfSatisfying(Commit.class, c -> {
      assertThat(c.updated().host()).isEqualTo("s2");
      assertThat(c.updated().displaced()).as("a move forced by failures fails back like a failover").isTrue();
      assertThat(c.event().kind()).isEqualTo("CRASH_LOOP");
    });
  }

  @Test
  void aServerPassedOverForAnAppNeitherTakesItOverNorIsChosen() {
    allUp();
    peer("s1", Verdict.DOWN, 1, true);
    crashes.put("web", List.of(now - 3 * SEC, now - 2 * SEC, now - SEC));
    assertThat(decide("s2")).as("s2 failed web too often: it does not take it").isEmpty();
    crashes.clear();
    readiness.put("s2", Map.of("web", List.of("failed 3 times here")));
    assertThat(decide("s3")).singleElement().isInstanceOfSatisfying(Commit.class,
        c -> assertThat(c.updated().host()).isEqualTo("s3"));
  }

  @Test
  void anAppThatNoServerCanRunEndsFailedAndIsPlacedAgainOnceOneQualifies() {
    allUp();
    readiness.put("s2", Map.of("web", List.of("failed 3 times here")));
    readiness.put("s3", Map.of("web", List.of("failed 3 times here")));
    crashes.put("web", List.of(now - 3 * SEC, now - 2 * SEC, now - SEC));
    var failed = decide("s1");
    assertThat(failed).singleElement().isInstanceOfSatisfying(Commit.class, c -> {
      assertThat(c.updated().host()).isNull();
      assertThat(c.updated().state()).isEqualTo(AppState.FAILED);
      assertThat(c.event().kind()).isEqualTo("APP_FAILED");
    });
    app = ((Commit) failed.get(0)).updated().withVersion(11);
    assertThat(decide("s1")).as("s1 is still passed over").isEmpty();
    assertThat(decide("s2")).isEmpty();
    crashes.clear(); // the failures above were s1's own
    readiness.remove("s3"); // s3's failures expired (or an operator reset them)
    assertThat(decide("s3")).singleElement().isInstanceOfSatisfying(Commit.class, c -> {
      assertThat(c.updated().host()).isEqualTo("s3");
      assertThat(c.updated().displaced()).as("away from its primary: it goes home once the primary qualifies").isTrue();
    });
  }

  @Test
  void aRunningAppOnAServerPassedOverIsStoppedBeforeItMoves() {
    allUp();
    running(1);
    app = app.withState(AppState.RUNNING, null);
    crashes.put("web", List.of(now - 3 * SEC, now - 2 * SEC, now - SEC));
    assertThat(decide("s1")).singleElement().isInstanceOf(Stop.class);
  }

  // ---- remove: the host stops the app first, then removes the object; a re-add can never run beside the old one ----

  @Test
  void anAppBeingRemovedIsStoppedByItsHostThenRemoved() {
    allUp();
    running(1);
    app = app.withState(AppState.RUNNING, null).withTarget(App.REMOVE);
    assertThat(decide("s1")).containsExactly(new Stop("web", "removed by an operator"));
    instances.clear(); // s1's instance, as the others see it: not theirs
    assertThat(decide("s2")).as("no one else acts while the host stops it").isEmpty();
    assertThat(decide("s1")).singleElement().isInstanceOfSatisfying(Commit.class, c -> {
      assertThat(c.updated().state()).isEqualTo(AppState.REMOVED);
      assertThat(c.updated().epoch()).as("the tombstone keeps the epoch").isEqualTo(app.epoch());
    });
  }

  @Test
  void anAppBeingRemovedWhoseHostIsDownIsRemovedNotTakenOver() {
    allUp();
    app = app.withState(AppState.RUNNING, null).withTarget(App.REMOVE);
    peer("s1", Verdict.DOWN, 1, true);
    assertThat(decide("s2")).singleElement().isInstanceOfSatisfying(Commit.class, c -> {
      assertThat(c.updated().state()).isEqualTo(AppState.REMOVED);
      assertThat(c.leaseServer()).as("only once the host's lease is certainly gone").isEqualTo("s1");
    });
    allUp();
    peer("s1", Verdict.DOWN, 1, true);
    assertThat(decide("s3")).as("the first live server finishes it, no one else").isEmpty();
  }

  @Test
  void unloadedAppStaysUnloaded() {
    allUp();
    app = app.movedTo(null, AppState.UNLOADED, "operator");
    for (String s : List.of("s1", "s2", "s3")) assertThat(decide(s)).isEmpty();
  }

  @Test
  void removedAppIsStopped() {
    allUp();
    instances.put("gone", new Instance("gone", 1, Phase.RUNNING, 0));
    assertThat(decide("s1")).contains(new Stop("gone", "app was removed from the cluster"));
  }

  @Test
  void witnessNeverHosts() {
    allUp();
    servers.put("s2", new ServerRecord("s2", "x", null, 0, true, null, true, null, null));
    peer("s1", Verdict.DOWN, 1, true);
    assertThat(decide("s2")).isEmpty();
    assertThat(decide("s3")).singleElement().isInstanceOf(Commit.class);
  }

  @Test
  void lostUplinkMovesAppToHealthyBackup() {
    allUp();
    running(1);
    app = app.withState(AppState.RUNNING, null);
    uplink = false;
    assertThat(decide("s1")).singleElement().isInstanceOf(Stop.class);
  }

  // ---- time alone: the instants the agent's loop sleeps until --------------------------------------------------

  long untilTimed(String self) {
    decide(self); // fills the snapshot as decide sees it
    peers.remove(self);
    var local = new LocalView(self, leaseValid, instances, peers, unmet, uplink, crashes, replicaCurrent);
    return Decider.nanosUntilTimedChange(new ClusterSnapshot(apps, servers, readiness), local, settings, now);
  }

  /** The decision at {@code now + dt}, everything else unchanged. */
  List<Action> decideAt(String self, long dt) {
    long was = now;
    now += dt;
    try {
      return decide(self);
    } finally {
      now = was;
    }
  }

  @Test
  void theFailbackHoldIsAnInstantTheLoopWakesFor() {
    allUp();
    app = app.displacedTo("s2", AppState.RUNNING, "failover");
    running(2);
    peers.put("s1", new PeerView("s1", Verdict.UP, now - SEC / 2, false, 5, false)); // back for half a second
    long until = untilTimed("s2");
    assertThat(until).isEqualTo(settings.failbackHold().toNanos() - SEC / 2);
    assertThat(decideAt("s2", until - 1)).as("one nanosecond before: still held").isEmpty();
    assertThat(decideAt("s2", until)).singleElement().isInstanceOf(Stop.class);
  }

  @Test
  void aCrashLeavingTheRestartWindowIsAnInstantTheLoopWakesFor() {
    allUp();
    app = app.withState(AppState.RUNNING, null);
    // three crashes within the window: a crash loop, and no other server can take it (both backups DOWN)
    peer("s2", Verdict.DOWN, 100, true);
    peer("s3", Verdict.DOWN, 100, true);
    crashes.put("web", List.of(now - 59 * SEC, now - 30 * SEC, now - 10 * SEC));
    long until = untilTimed("s1");
    assertThat(until).isEqualTo(SEC + 1);
    assertThat(decideAt("s1", until - 1)).singleElement().isInstanceOfSatisfying(Commit.class,
        c -> assertThat(c.updated().state()).isEqualTo(AppState.FAILED));
    assertThat(decideAt("s1", until)).as("the oldest crash has left the window: restart here").containsExactly(new Start(app));
  }

  @Test
  void nothingWaitsOnTheClockWhenNothingIsHeldOrCounted() {
    allUp();
    running(1);
    app = app.withState(AppState.RUNNING, null);
    assertThat(untilTimed("s1")).isEqualTo(Long.MAX_VALUE);
    peers.put("s1", new PeerView("s1", Verdict.UP, now - 10 * SEC, false, 5, false));
    app = app.displacedTo("s2", AppState.RUNNING, "failover");
    assertThat(untilTimed("s2")).as("the hold is already over: due now, no later instant").isEqualTo(Long.MAX_VALUE);
  }

  /**
   * The promise the loop relies on, over random holds and crash histories: until the instant named, the decision is
   * the one made now, whatever instant in between the loop happens to wake at.
   */
  @Test
  void noDecisionChangesBeforeTheInstantNamed() {
    var rnd = new java.util.Random(20261202);
    for (int i = 0; i < 500; i++) {
      apps.clear();
      crashes.clear();
      instances.clear();
      allUp();
      app = App.create("web", AppType.CAPABLE, Command.of("x"), "s1", List.of("s2", "s3"), List.of(), rnd.nextBoolean(),
          null, Map.of()).displacedTo("s2", AppState.RUNNING, "failover").withVersion(10);
      if (rnd.nextBoolean()) running(2);
      peers.put("s1", new PeerView("s1", rnd.nextInt(4) == 0 ? Verdict.DOWN : Verdict.UP,
          now - (long) (rnd.nextDouble() * 3 * SEC), false, 5, false));
      if (rnd.nextBoolean()) peer("s3", Verdict.DOWN, 100, true);
      List<Long> cs = new ArrayList<>();
      for (int k = rnd.nextInt(5); k > 0; k--) cs.add(now - (long) (rnd.nextDouble() * 70 * SEC));
      crashes.put("web", cs);
      List<String> first = what(decide("s2"));
      long until = untilTimed("s2");
      long horizon = Math.min(until, 80 * SEC);
      for (int k = 0; k < 20; k++) {
        long dt = (long) (rnd.nextDouble() * horizon);
        assertThat(what(decideAt("s2", dt))).as("case %d at +%d ns (next timed change in %d ns)", i, dt, until)
            .isEqualTo(first);
      }
    }
  }

  /** What actions do, without the texts that quote elapsed times ("UP for 2172 ms"). */
  private static List<String> what(List<Action> actions) {
    List<String> out = new ArrayList<>();
    for (Action a : actions) {
      if (a instanceof Stop st) out.add("stop " + st.tag());
      else if (a instanceof Commit c) out.add("commit " + c.updated().host() + " " + c.updated().state() + " "
          + c.updated().epoch() + " " + c.updated().target());
      else out.add(a.getClass().getSimpleName() + " " + a);
    }
    return out;
  }
}
