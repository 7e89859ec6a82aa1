package dev.understudy.detect;

/** Monotonic time in nanoseconds; tests pass a fake one. Never a wall clock: leases must not compare wall clocks. */
@FunctionalInterface
public interface Ticker {
  long nanos();

  Ticker SYSTEM = System::nanoTime;
}
