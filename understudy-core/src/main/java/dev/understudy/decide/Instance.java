package dev.understudy.decide;

/**
 * A local process of an app, as the supervisor reports it. A {@code standby} instance is an aware app pre-started
 * paused on a server that is not its host (warm standby): it serves nothing until it is promoted.
 */
public record Instance(String tag, long epoch, Phase phase, long sinceNanos, boolean standby) {
  public enum Phase { STARTING, RUNNING, STOPPING }

  public Instance(String tag, long epoch, Phase phase, long sinceNanos) { this(tag, epoch, phase, sinceNanos, false); }
}
