package dev.understudy.detect;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A detection round at the instant a deadline falls between two periodic rounds: a peer's acks running out, a LAN-lost
 * peer's lease running out. Without it a verdict lands up to a whole period after its deadline. One timer task is
 * pending at a time, unless a deadline comes before it; a deadline at or beyond the next periodic round needs none.
 */
public final class DeadlineRound {
  /** Runs a task once after {@code delayNanos}; throws RejectedExecutionException when closing. */
  @FunctionalInterface
  public interface Timer {
    void schedule(Runnable task, long delayNanos);
  }

  private static final long SAME_NANOS = 1_000_000; // deadlines within a millisecond share one round

  private final Ticker ticker;
  private final Timer timer;
  private final long periodNanos;
  private final Runnable round;
  /** When the pending round is due (ticker nanos); Long.MAX_VALUE while none is. */
  private final AtomicLong due = new AtomicLong(Long.MAX_VALUE);

  /** {@code periodNanos}: how often periodic rounds run anyway; {@code round}: the detection round to run. */
  public DeadlineRound(Ticker ticker, Timer timer, long periodNanos, Runnable round) {
    this.ticker = ticker;
    this.timer = timer;
    this.periodNanos = periodNanos;
    this.round = round;
  }

  /** Asks for a round {@code inNanos} from now (MAX_VALUE or less than 1: nothing to ask). */
  public void in(long inNanos) {
    if (inNanos <= 0 || inNanos >= periodNanos) return;
    long at = ticker.nanos() + inNanos;
    long pending = due.get();
    if (at >= pending - SAME_NANOS || !due.compareAndSet(pending, at)) return;
    try {
      timer.schedule(() -> {
        due.compareAndSet(at, Long.MAX_VALUE);
        round.run();
      }, inNanos);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      due.compareAndSet(at, Long.MAX_VALUE);
    }
  }

  /**
   * How long until this peer's verdict can change by time alone: its acks running out while it answers on the LAN;
   * its lease running out once it does not. MAX_VALUE when no clock runs out (a lease already expired).
   *
   * @param lastAckNanos when its last ack came (ticker nanos), null if none ever did
   * @param leaseLeftNanos how long its lease lasts from now as this agent counts it
   */
  public static long nanosUntilChange(long now, Long lastAckNanos, long heartbeatTimeoutNanos, long leaseLeftNanos) {
    if (lastAckNanos != null && now - lastAckNanos <= heartbeatTimeoutNanos) {
      return lastAckNanos + heartbeatTimeoutNanos - now + 1; // the first instant it counts as LAN-lost
    }
    return leaseLeftNanos > 0 ? leaseLeftNanos : Long.MAX_VALUE;
  }
}
