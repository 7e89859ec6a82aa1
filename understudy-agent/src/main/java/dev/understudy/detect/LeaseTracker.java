package dev.understudy.detect;

import dev.understudy.model.Keys;
import dev.understudy.model.Lease;
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
  public record Observed(long version, long appliedNanos, boolean revoked, long incarnation) {}

  private final Ticker ticker;
  private final Duration lease;
  private final Duration margin;
  private final Map<String, Observed> seen = new ConcurrentHashMap<>();

  public LeaseTracker(Ticker ticker, Duration lease, Duration margin) {
    this.ticker = ticker;
    this.lease = lease;
    this.margin = margin;
  }

  /** On start: whatever is in the replica counts as renewed just now (we cannot know better, so assume alive). */
  public void seed(List<Entry> leases) {
    long now = ticker.nanos();
    for (Entry e : leases) record(e.key().substring(Keys.LEASES.length()), e.value(), e.version(), now);
  }

  /** Fed by the store watch, in log order. */
  public void onChanges(List<Change> changes) {
    long now = ticker.nanos();
    for (Change c : changes) {
      if (!c.key().startsWith(Keys.LEASES)) continue;
      String server = c.key().substring(Keys.LEASES.length());
      if (c.newValue() == null) seen.remove(server);
      else record(server, c.newValue(), c.version(), now);
    }
  }

  private void record(String server, String json, long version, long now) {
    Lease l = Json.read(json, Lease.class);
    seen.put(server, new Observed(version, now, l.revoked(), l.incarnation()));
  }

  public boolean expired(String server) {
    Observed o = seen.get(server);
    if (o == null || o.revoked()) return true;
    return ticker.nanos() - o.appliedNanos() > lease.toNanos() + margin.toNanos();
  }

  /** Version of the lease record this observation rests on (0 = none). */
  public long version(String server) {
    Observed o = seen.get(server);
    return o == null ? 0 : o.version();
  }

  public boolean revoked(String server) {
    Observed o = seen.get(server);
    return o != null && o.revoked();
  }
}
