package dev.understudy.detect;

import dev.understudy.model.Keys;
import dev.understudy.model.Lease;
import dev.understudy.model.Parting;
import dev.understudy.model.Revocation;
import dev.understudy.store.Change;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The observer's side of every server's lease. A renewal counts from when THIS replica applied it, on this
 * agent's monotonic clock, and is good for {@code lease + margin}: the holder counted from when it sent the
 * renewal, which is earlier, so the holder's lease always ends first. Never compares wall clocks.
 */
public final class LeaseTracker {
  /** {@code validNanos}: how long after {@code appliedNanos} the lease counts as possibly held (its holder's length). */
  public record Observed(long version, long appliedNanos, long incarnation, long validNanos) {}

  private final Ticker ticker;
  private final Duration lease;
  private final Duration margin;
  private final Map<String, Observed> seen = new ConcurrentHashMap<>();
  private final Map<String, Long> revokedIncarnation = new ConcurrentHashMap<>();
  /** The incarnation each server's agent parted with when it stopped to restart. */
  private final Map<String, Long> partedIncarnation = new ConcurrentHashMap<>();

  public LeaseTracker(Ticker ticker, Duration lease, Duration margin) {
    this.ticker = ticker;
    this.lease = lease;
    this.margin = margin;
  }

  /** On start: whatever is in the replica counts as renewed just now (we cannot know better, so assume alive). */
  public void seed(List<Entry> leases, List<Entry> revocations, List<Entry> partings) {
    long now = ticker.nanos();
    for (Entry e : leases) record(e.key().substring(Keys.LEASES.length()), e.value(), e.version(), now);
    for (Entry e : revocations) revoke(e.value());
    for (Entry e : partings) part(e.key().substring(Keys.PARTINGS.length()), e.value());
  }

  /** Fed by the store watch, in log order. */
  public void onChanges(List<Change> changes) {
    long now = ticker.nanos();
    for (Change c : changes) {
      if (c.key().startsWith(Keys.LEASES)) {
        String server = c.key().substring(Keys.LEASES.length());
        if (c.newValue() == null) seen.remove(server);
        else record(server, c.newValue(), c.version(), now);
      } else if (c.key().startsWith(Keys.REVOCATIONS) && c.newValue() != null) {
        revoke(c.newValue());
      } else if (c.key().startsWith(Keys.PARTINGS)) {
        part(c.key().substring(Keys.PARTINGS.length()), c.newValue());
      }
    }
  }

  /**
   * A write of the same incarnation never ends the lease earlier than one seen before: a renewal sent before a longer
   * one (the parting lease of a restart) may be applied after it, and its holder counts to the latest end any of its
   * confirmed writes gives. A new incarnation is counted by its own record alone.
   */
  private void record(String server, String json, long version, long now) {
    Lease l = Json.read(json, Lease.class);
    long valid = validNanos(l, lease, margin);
    Observed prev = seen.get(server);
    if (prev != null && prev.incarnation() == l.incarnation()) valid = Math.max(valid, prev.appliedNanos() + prev.validNanos() - now);
    seen.put(server, new Observed(version, now, l.incarnation(), valid));
  }

  /**
   * The holder's lease length (from its record; this observer's own for a record without one) plus the larger of the
   * two drift margins: an observer never counts a holder's lease shorter than the holder does.
   */
  static long validNanos(Lease l, Duration ownLease, Duration ownMargin) {
    long holderLease = l.leaseMillis() > 0 ? Duration.ofMillis(l.leaseMillis()).toNanos() : ownLease.toNanos();
    long m = Math.max(ownMargin.toNanos(), Duration.ofMillis(l.marginMillis()).toNanos());
    return holderLease + m;
  }

  private void part(String server, String json) {
    if (json == null) partedIncarnation.remove(server);
    else partedIncarnation.put(server, Json.read(json, Parting.class).incarnation());
  }

  /**
   * True while {@code server}'s agent is stopping to restart: the lease this replica counts is the one it parted with
   * (a later incarnation's lease means it is back).
   */
  public boolean parting(String server) {
    Observed o = seen.get(server);
    Long p = partedIncarnation.get(server);
    return o != null && p != null && p == o.incarnation() && !expired(server);
  }

  private void revoke(String json) {
    Revocation r = Json.read(json, Revocation.class);
    revokedIncarnation.put(r.server(), r.incarnation());
  }

  public boolean expired(String server) {
    Observed o = seen.get(server);
    if (o == null || revoked(server)) return true;
    return ticker.nanos() - o.appliedNanos() > o.validNanos();
  }

  /** Nanoseconds until {@code server}'s lease counts as expired here (0 when it already does). */
  public long nanosUntilExpired(String server) {
    if (expired(server)) return 0;
    Observed o = seen.get(server);
    return Math.max(0, o.appliedNanos() + o.validNanos() - ticker.nanos() + 1);
  }

  /** Version of the lease record this observation rests on (0 = none). */
  public long version(String server) {
    Observed o = seen.get(server);
    return o == null ? 0 : o.version();
  }

  public long incarnation(String server) {
    Observed o = seen.get(server);
    return o == null ? 0 : o.incarnation();
  }

  public boolean revoked(String server) {
    Observed o = seen.get(server);
    Long r = revokedIncarnation.get(server);
    return o != null && r != null && r == o.incarnation();
  }
}
