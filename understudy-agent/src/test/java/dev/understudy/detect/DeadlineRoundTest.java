package dev.understudy.detect;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

/** Deadline rounds on a fake clock: when they run, and that a verdict's deadline gets one at its instant. */
class DeadlineRoundTest {
  private static final long MS = 1_000_000;
  private static final long PERIOD = 100 * MS;
  private static final long TIMEOUT = 500 * MS;

  private final FakeTicker clock = new FakeTicker();
  /** Tasks the fake timer holds, each with the instant it is due. */
  private final List<long[]> dueAt = new ArrayList<>();
  private final List<Runnable> tasks = new ArrayList<>();
  private final List<Long> roundsAt = new ArrayList<>();
  private boolean closing;

  private final DeadlineRound deadlines = new DeadlineRound(clock, (task, nanos) -> {
    if (closing) throw new RejectedExecutionException("closing");
    dueAt.add(new long[] {clock.nanos() + nanos});
    tasks.add(task);
  }, PERIOD, () -> roundsAt.add(clock.nanos()));

  /** Advances the clock, running each task as its instant comes, in order. */
  private void advance(long nanos) {
    long until = clock.nanos() + nanos;
    while (true) {
      int next = -1;
      for (int i = 0; i < tasks.size(); i++) {
        if (dueAt.get(i)[0] <= until && (next < 0 || dueAt.get(i)[0] < dueAt.get(next)[0])) next = i;
      }
      if (next < 0) break;
      clock.advance(Duration.ofNanos(dueAt.get(next)[0] - clock.nanos()));
      Runnable t = tasks.remove(next);
      dueAt.remove(next);
      t.run();
    }
    clock.advance(Duration.ofNanos(until - clock.nanos()));
  }

  @Test
  void aDeadlineBeforeTheNextPeriodicRoundGetsARoundAtItsInstant() {
    long t0 = clock.nanos();
    deadlines.in(30 * MS);
    advance(PERIOD);
    assertThat(roundsAt).containsExactly(t0 + 30 * MS);
  }

  @Test
  void deadlinesAtOrBeyondTheNextPeriodicRoundOrAlreadyPastNeedNone() {
    deadlines.in(PERIOD);
    deadlines.in(Long.MAX_VALUE);
    deadlines.in(0);
    deadlines.in(-5 * MS);
    advance(10 * PERIOD);
    assertThat(roundsAt).isEmpty();
    assertThat(tasks).isEmpty();
  }

  @Test
  void oneRoundIsPendingAtATimeUnlessAnEarlierDeadlineComes() {
    long t0 = clock.nanos();
    deadlines.in(60 * MS);
    deadlines.in(70 * MS);   // later: the pending round comes first, and the periodic one covers the rest
    deadlines.in(60 * MS);   // the same instant again (every periodic round asks): no second task
    deadlines.in(60 * MS + MS / 2); // within a millisecond of it: shares it
    assertThat(tasks).hasSize(1);
    deadlines.in(20 * MS);   // earlier: a round of its own
    assertThat(tasks).hasSize(2);
    advance(PERIOD);
    assertThat(roundsAt).containsExactly(t0 + 20 * MS, t0 + 60 * MS);
  }

  @Test
  void afterItsRoundRunsTheNextDeadlineIsTakenAgain() {
    long t0 = clock.nanos();
    deadlines.in(40 * MS);
    advance(50 * MS);
    deadlines.in(40 * MS); // now t0 + 90 ms: a new deadline, not the old one
    advance(PERIOD);
    assertThat(roundsAt).containsExactly(t0 + 40 * MS, t0 + 90 * MS);
  }

  @Test
  void aTimerThatRefusesWhileClosingLeavesNothingPendingBehind() {
    closing = true;
    deadlines.in(40 * MS);
    closing = false;
    deadlines.in(50 * MS); // later than the refused one: had that stayed "pending", this would be skipped
    advance(PERIOD);
    assertThat(roundsAt).hasSize(1);
  }

  @Test
  void aPeerAnsweringOnTheLanChangesTheInstantItsAcksRunOut() {
    long now = clock.nanos();
    long ack = now - 420 * MS;
    long in = DeadlineRound.nanosUntilChange(now, ack, TIMEOUT, Long.MAX_VALUE);
    assertThat(in).isEqualTo(80 * MS + 1);
    // at that instant the peer is LAN-lost by the rule the round uses (acks older than the timeout)
    assertThat(now + in - ack).isGreaterThan(TIMEOUT);
    assertThat(now + in - 1 - ack).isLessThanOrEqualTo(TIMEOUT);
  }

  @Test
  void aPeerLostOnTheLanChangesWhenItsLeaseRunsOut() {
    long now = clock.nanos();
    assertThat(DeadlineRound.nanosUntilChange(now, now - 600 * MS, TIMEOUT, 250 * MS)).isEqualTo(250 * MS);
    assertThat(DeadlineRound.nanosUntilChange(now, null, TIMEOUT, 250 * MS)).as("never heard from").isEqualTo(250 * MS);
    assertThat(DeadlineRound.nanosUntilChange(now, now - 600 * MS, TIMEOUT, 0)).as("lease already over")
        .isEqualTo(Long.MAX_VALUE);
    assertThat(DeadlineRound.nanosUntilChange(now, null, TIMEOUT, -1)).isEqualTo(Long.MAX_VALUE);
  }

  /**
   * The whole loop, as the agent runs it: periodic rounds every 100 ms plus deadline rounds, a peer whose acks stop.
   * The round that first sees it LAN-lost runs within a millisecond of its deadline, not up to a period late.
   */
  @Test
  void aPeerWhoseAcksStopIsSeenLostAtTheDeadlineNotAtTheNextPeriodicRound() {
    long lastAck = clock.nanos() + 37 * MS; // acks stop at an instant between two periodic rounds
    List<Long> lostSeenAt = new ArrayList<>();
    Runnable[] round = new Runnable[1];
    DeadlineRound d = new DeadlineRound(clock, (task, nanos) -> {
      dueAt.add(new long[] {clock.nanos() + nanos});
      tasks.add(task);
    }, PERIOD, () -> round[0].run());
    round[0] = () -> {
      long now = clock.nanos();
      Long ack = now >= lastAck ? lastAck : now; // acked every instant until lastAck
      boolean lanOk = now - ack <= TIMEOUT;
      if (!lanOk && lostSeenAt.isEmpty()) lostSeenAt.add(now);
      d.in(DeadlineRound.nanosUntilChange(now, ack, TIMEOUT, lanOk ? Long.MAX_VALUE : 10_000 * MS));
    };
    for (int i = 0; i < 10; i++) {
      round[0].run(); // the periodic round
      advance(PERIOD);
    }
    assertThat(lostSeenAt).hasSize(1);
    long late = lostSeenAt.get(0) - (lastAck + TIMEOUT);
    assertThat(late).isBetween(0L, MS);
  }
}
