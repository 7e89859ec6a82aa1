package dev.understudy.decide;

import java.util.List;

/**
 * The formulas of bounded failures, as pure functions of an app's failure instants on one server (monotonic nanos)
 * and {@code now}. A failure counts while {@code now - t <= restartWindow}.
 */
public final class FailurePolicy {
  /** No wait grows past this, whatever the limit: a retry a minute apart is already a server that barely helps. */
  static final long MAX_BACKOFF_NANOS = 60_000_000_000L;

  private FailurePolicy() {}

  /** Durations as an operator writes them (600 s reads worse than 10m). */
  static final class Durations {
    static String text(java.time.Duration d) {
      long s = d.toSeconds();
      if (s >= 3600 && s % 3600 == 0) return (s / 3600) + "h";
      if (s >= 60 && s % 60 == 0) return (s / 60) + "m";
      return s > 0 ? s + "s" : d.toMillis() + "ms";
    }
  }

  /** Failures still counted at {@code now}. */
  public static int counted(List<Long> failures, Settings s, long now) {
    long window = s.restartWindow().toNanos();
    int n = 0;
    for (long t : failures) if (now - t <= window) n++;
    return n;
  }

  /** At the limit: this server is passed over for the app until a failure expires or an operator resets it. */
  public static boolean passedOver(List<Long> failures, Settings s, long now) {
    return counted(failures, s, now) >= s.restartLimit();
  }

  /** The wait before the n-th retry here (n >= 1 failures counted): restartBackoff, doubled for each failure after the first. */
  public static long backoffNanos(int counted, Settings s) {
    if (counted <= 0) return 0;
    long base = s.restartBackoff().toNanos();
    int shift = Math.min(counted - 1, 20);
    return Math.min(MAX_BACKOFF_NANOS, base << shift);
  }

  /** Nanoseconds from {@code now} until a retry here is allowed (0: now). */
  public static long nanosUntilRetry(List<Long> failures, Settings s, long now) {
    int n = counted(failures, s, now);
    if (n == 0) return 0;
    long last = Long.MIN_VALUE;
    for (long t : failures) if (now - t <= s.restartWindow().toNanos()) last = Math.max(last, t);
    return Math.max(0, last + backoffNanos(n, s) - now);
  }

  /** Nanoseconds from {@code now} until the oldest counted failure expires (MAX_VALUE: none counted). */
  public static long nanosUntilOldestExpires(List<Long> failures, Settings s, long now) {
    long window = s.restartWindow().toNanos();
    long next = Long.MAX_VALUE;
    for (long t : failures) {
      long left = t + window - now + 1;
      if (left > 0) next = Math.min(next, left);
    }
    return next;
  }

  /** What a server passed over for an app publishes as the reason (its readiness), for status, why and the others. */
  public static String reason(int counted, Settings s) {
    return "failed " + counted + " times here within " + Durations.text(s.restartWindow())
        + "; passed over until a failure expires or an operator resets the app";
  }
}
