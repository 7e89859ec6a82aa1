package dev.understudy.api;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many long polls (an aware app waiting to host, or to be asked to unload) may be parked at once: each holds a
 * connection and a timer, and an app token could otherwise open them without end.
 */
final class ParkedPolls {
  static final int PER_APP = 8;
  static final int TOTAL = 256;

  private final ConcurrentHashMap<String, AtomicInteger> perApp = new ConcurrentHashMap<>();
  private final AtomicInteger total = new AtomicInteger();

  /** Parks one more for {@code tag}, or refuses (429) over either limit. Pair each success with {@link #release}. */
  void park(String tag) {
    if (total.incrementAndGet() > TOTAL) {
      total.decrementAndGet();
      throw new ApiError(429, "too many requests are waiting on this agent (" + TOTAL + "); retry shortly");
    }
    AtomicInteger n = perApp.computeIfAbsent(tag, k -> new AtomicInteger());
    if (n.incrementAndGet() > PER_APP) {
      n.decrementAndGet();
      total.decrementAndGet();
      throw new ApiError(429, "too many requests are waiting for " + tag + " (" + PER_APP + "); retry shortly");
    }
  }

  void release(String tag) {
    total.decrementAndGet();
    perApp.computeIfPresent(tag, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
  }
}
