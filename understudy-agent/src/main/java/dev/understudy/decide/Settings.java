package dev.understudy.decide;

import java.time.Duration;

/** The knobs of the decision rules. */
public record Settings(Duration failbackHold, int restartLimit, Duration restartWindow) {
  public static Settings defaults() { return new Settings(Duration.ofSeconds(2), 3, Duration.ofSeconds(60)); }
}
