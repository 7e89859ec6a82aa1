package dev.understudy.decide;

import java.time.Duration;

/**
 * The knobs of the decision rules. Failures of an app on one server (a crash, a start that failed or timed out, a
 * health check that killed it) each count for {@code restartWindow}; the app is restarted there after a backoff that
 * starts at {@code restartBackoff} and doubles with each failure still counted; at {@code restartLimit} failures the
 * server is passed over for that app until one of them expires or an operator resets the app (Pacemaker's
 * migration-threshold and failure-timeout).
 */
public record Settings(Duration failbackHold, int restartLimit, Duration restartWindow, Duration restartBackoff) {
  public static final Duration DEFAULT_RESTART_BACKOFF = Duration.ofMillis(500);

  public Settings(Duration failbackHold, int restartLimit, Duration restartWindow) {
    this(failbackHold, restartLimit, restartWindow, DEFAULT_RESTART_BACKOFF);
  }

  public static Settings defaults() { return new Settings(Duration.ofSeconds(2), 3, Duration.ofMinutes(10)); }
}
