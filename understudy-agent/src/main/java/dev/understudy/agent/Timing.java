package dev.understudy.agent;

import dev.understudy.agent.AgentConfig.TimingConfig;
import java.time.Duration;

/**
 * Every timeout of the failover protocol, from a named profile plus overrides, and the relations between them
 * that safety needs (docs/PROTOCOL.md). A violated relation is refused with both values printed.
 */
public record Timing(Duration heartbeatInterval, Duration heartbeatTimeout, Duration lease, Duration leaseRenew,
                     Duration leaseMargin, Duration guardTimeout, Duration electionTimeoutMin,
                     Duration electionTimeoutMax, Duration failbackHold, int restartLimit, Duration restartWindow,
                     Duration restartBackoff, Duration restartGrace) {

  /** default: a LAN. fast: a quiet LAN or one machine, about half the failover time. */
  public static Timing profile(String name) {
    return switch (name == null ? "default" : name) {
      case "default" -> new Timing(ms(100), ms(500), ms(800), ms(200), ms(80), ms(200), ms(150), ms(300), ms(2000), 3,
          FAILURE_EXPIRY, BACKOFF, GRACE);
      case "fast" -> new Timing(ms(50), ms(250), ms(400), ms(100), ms(40), ms(100), ms(100), ms(200), ms(1000), 3, FAILURE_EXPIRY, BACKOFF, GRACE);
      case "relaxed" -> new Timing(ms(250), ms(1500), ms(4000), ms(800), ms(400), ms(1000), ms(500), ms(1000), ms(5000), 3,
          FAILURE_EXPIRY, BACKOFF, GRACE);
      default -> throw new ConfigException("timing.profile", "\"" + name + "\" is not a profile; use default, fast or relaxed");
    };
  }

  /**
   * How long a failure of an app on a server counts (Pacemaker's failure-timeout): an app that fails on every server is
   * FAILED for about this long unless an operator resets it first.
   */
  private static final Duration FAILURE_EXPIRY = Duration.ofMinutes(10);
  private static final Duration BACKOFF = dev.understudy.decide.Settings.DEFAULT_RESTART_BACKOFF;
  /** How long an agent stopping to restart keeps its apps running for the next life to adopt (its parting lease). */
  private static final Duration GRACE = Duration.ofSeconds(20);

  private static Duration ms(long n) { return Duration.ofMillis(n); }

  static Timing from(TimingConfig c) {
    if (c == null) return profile("default");
    Timing p = profile(c.profile());
    return new Timing(
        d("timing.heartbeatInterval", c.heartbeatInterval(), p.heartbeatInterval),
        d("timing.heartbeatTimeout", c.heartbeatTimeout(), p.heartbeatTimeout),
        d("timing.lease", c.lease(), p.lease),
        d("timing.leaseRenew", c.leaseRenew(), p.leaseRenew),
        d("timing.leaseMargin", c.leaseMargin(), p.leaseMargin),
        d("timing.guardTimeout", c.guardTimeout(), p.guardTimeout),
        d("timing.electionTimeoutMin", c.electionTimeoutMin(), p.electionTimeoutMin),
        d("timing.electionTimeoutMax", c.electionTimeoutMax(), p.electionTimeoutMax),
        d("timing.failbackHold", c.failbackHold(), p.failbackHold),
        c.restartLimit() != null ? c.restartLimit() : p.restartLimit,
        d("timing.restartWindow", c.restartWindow(), p.restartWindow),
        d("timing.restartBackoff", c.restartBackoff(), p.restartBackoff),
        d("timing.restartGrace", c.restartGrace(), p.restartGrace));
  }

  private static Duration d(String key, String v, Duration dflt) { return v == null ? dflt : Durations.parse(key, v); }

  public void validate() {
    atLeast("timing.heartbeatTimeout", heartbeatTimeout, "2 x timing.heartbeatInterval", heartbeatInterval.multipliedBy(2));
    atLeast("timing.lease", lease, "3 x timing.leaseRenew", leaseRenew.multipliedBy(3));
    atLeast("timing.lease", lease, "2 x timing.electionTimeoutMax (a Raft election must not fence everyone)",
        electionTimeoutMax.multipliedBy(2));
    atLeast("timing.electionTimeoutMax", electionTimeoutMax, "timing.electionTimeoutMin", electionTimeoutMin);
    atLeast("timing.lease", lease, "timing.guardTimeout + timing.leaseMargin + timing.leaseRenew (the fence kills every"
        + " app a margin before the lease ends; a start needs guardTimeout left before that, and a renewal must land"
        + " first)", guardTimeout.plus(leaseMargin).plus(leaseRenew));
    atLeast("timing.guardTimeout", guardTimeout, "40ms (a start must leave time to spawn the app and tell the fence)",
        Duration.ofMillis(40));
    atLeast("timing.leaseMargin", leaseMargin, "1% of timing.lease (clock-rate drift)", lease.dividedBy(100));
    atLeast("timing.restartBackoff", restartBackoff, "10ms (a failing app must not spin)", Duration.ofMillis(10));
    atLeast("timing.restartWindow", restartWindow, "timing.restartBackoff", restartBackoff);
    atLeast("timing.restartGrace", restartGrace, "timing.lease (a restart must not shorten the lease)", lease);
    if (restartLimit < 1) throw new ConfigException("timing.restartLimit", "must be at least 1 (got " + restartLimit + ")");
  }

  private static void atLeast(String key, Duration v, String what, Duration min) {
    if (v.compareTo(min) < 0) {
      throw new ConfigException(key, "(" + Durations.format(v) + ") must be at least " + what + " (" + Durations.format(min) + ")");
    }
  }
}
