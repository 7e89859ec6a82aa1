package dev.understudy.decide;

/** A local process of an app, as the supervisor reports it. */
public record Instance(String tag, long epoch, Phase phase, long sinceNanos) {
  public enum Phase { STARTING, RUNNING, STOPPING }
}
