package dev.understudy.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.model.AppState;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * Random fault schedules against the whole protocol in one thread ({@link SimCluster}: every server runs the production
 * core, leases and commit transactions, with a fake clock). Fault classes: kill -9 and restart (or, once in a while, a
 * server that dies for good, whose apps must move and stay moved), SIGTERM and restart (a parting lease; nothing may
 * fail over from a server that is only restarting, F1), SIGSTOP, a server cut
 * from the database, LAN cuts, app crashes, operator moves, replicas that stall and catch up by a snapshot install,
 * wall-clock steps, starts that hang, lost, delayed and duplicated renewal requests, commits whose reply is lost
 * (applied or not), and one server on another timing profile in half the schedules. S1 is checked at every 50 ms step;
 * after healing, every app runs (L1). {@link SimMutantTest} turns each rule off and expects a schedule to catch it.
 */
class SimulationTest {
  @Property(tries = 300)
  void noScheduleEverRunsAnAppTwice(@ForAll @LongRange(min = 1, max = Long.MAX_VALUE) long seed,
                                    @ForAll @IntRange(min = 3, max = 5) int servers) {
    SimCluster c = new SimCluster(seed, servers, 4);
    run(c);
    assertThat(c.violations).as("seed %d, %d servers; trace:%n%s", seed, servers, String.join("\n", tail(c))).isEmpty();
    assertThat(c.notRunning()).as("L1 after healing, seed %d; trace:%n%s%n%s", seed, String.join("\n", tail(c)), c.dump()).isEmpty();
  }

  /**
   * An app whose every start fails (found by a user: 3,612 starts in 40 s, bouncing between servers without end): a
   * bounded number of starts, then FAILED; back once the cause is fixed and an operator resets it.
   */
  @Property(tries = 20)
  void anAppThatFailsEverywhereIsStartedABoundedNumberOfTimesThenFailed(
      @ForAll @LongRange(min = 1, max = Long.MAX_VALUE) long seed, @ForAll @IntRange(min = 3, max = 5) int servers) {
    SimCluster c = new SimCluster(seed, servers, 2);
    c.broken.add("a0");
    for (int i = 0; i < 1200; i++) c.step(false); // one quiet minute
    // a0 may run on its primary and two backups: each tries restartLimit times, then is passed over
    assertThat(c.starts.get("a0")).as("starts of a0; trace:%n%s", String.join("\n", tail(c)))
        .isLessThanOrEqualTo(3 * c.settings.restartLimit());
    assertThat(c.app("a0").state()).isEqualTo(AppState.FAILED);
    assertThat(c.notRunning()).as("the other app is unharmed").isEmpty();
    c.broken.clear(); // the operator fixes the cause, then resets the app
    c.operator(c.app("a0").withFailuresReset());
    for (int i = 0; i < 200; i++) c.step(false);
    assertThat(c.app("a0").state()).isEqualTo(AppState.RUNNING);
    assertThat(c.violations).isEmpty();
  }

  /**
   * One simulated minute of faults, then healing and twenty quiet seconds, plus up to five for a hand-over under way
   * to finish: a failback may rightly begin at any time in the quiet seconds (a primary whose failures during the
   * faults age out of the restart window only then), and an app between its stop here and its start there is moving,
   * not lost (seed 11882147823771: a0's failback began 19.7 s after healing; L1 was checked 0.3 s later).
   */
  static void run(SimCluster c) {
    for (int i = 0; i < 1200; i++) c.step(true);
    c.heal();
    for (int i = 0; i < 100; i++) c.step(false);
    c.resetFailedApps(); // starts under way at the heal have ended by now (the start timeout is 2 s)
    for (int i = 0; i < 300; i++) c.step(false);
    for (int i = 0; i < 100 && !c.notRunning().isEmpty(); i++) c.step(false);
  }

  /**
   * An app whose starts hang (the process runs, never becomes healthy): each start is killed at its timeout and counted,
   * then FAILED like an app that exits at once; back once the cause is fixed and an operator resets it.
   */
  @Property(tries = 10)
  void anAppWhoseStartsHangIsTimedOutABoundedNumberOfTimesThenFailed(
      @ForAll @LongRange(min = 1, max = Long.MAX_VALUE) long seed, @ForAll @IntRange(min = 3, max = 5) int servers) {
    SimCluster c = new SimCluster(seed, servers, 2);
    c.hung.add("a0");
    for (int i = 0; i < 1200; i++) c.step(false);
    assertThat(c.starts.get("a0")).as("starts of a0; trace:%n%s", String.join("\n", tail(c)))
        .isLessThanOrEqualTo(3 * c.settings.restartLimit());
    assertThat(c.app("a0").state()).isEqualTo(AppState.FAILED);
    c.hung.clear();
    c.operator(c.app("a0").withFailuresReset());
    for (int i = 0; i < 200; i++) c.step(false);
    assertThat(c.app("a0").state()).isEqualTo(AppState.RUNNING);
    assertThat(c.violations).isEmpty();
  }

  private static java.util.List<String> tail(SimCluster c) {
    return c.trace.subList(Math.max(0, c.trace.size() - 80), c.trace.size());
  }

  /**
   * Found by a random seed in a full verify: a start that hung before the heal was timed out after it, and that third
   * failure made the app FAILED after the operator's reset at the heal. The operator (the harness) now resets again
   * once the starts under way at the heal have ended. A schedule check, not a product defect: FAILED is the state an
   * app that failed everywhere must reach.
   */
  @org.junit.jupiter.api.Test
  void anAppThatFailsEverywhereJustAfterTheHealIsResetToo_seed571() {
    SimCluster c = new SimCluster(571, 3, 4);
    run(c);
    assertThat(c.notRunning()).as("L1 after healing, seed 571; trace:%n%s", String.join("\n", tail(c))).isEmpty();
  }

  /**
   * Found by a random seed in a full verify: s1, restarted after a kill and a replica stall, was 138 entries behind and
   * the simulated follower applied at most six a tick, so it never caught up and never started the app failed back to
   * it. A Ratis follower that far behind gets a snapshot (the leader has purged those entries) or many entries an RPC.
   */
  @org.junit.jupiter.api.Test
  void aFollowerFarBehindCatchesUp_seed33623() {
    SimCluster c = new SimCluster(33623, 5, 4);
    run(c);
    assertThat(c.violations).isEmpty();
    assertThat(c.notRunning()).as("L1 after healing, seed 33623; trace:%n%s%n%s", String.join("\n", tail(c)), c.dump()).isEmpty();
  }
}
