package dev.understudy.detect;

import dev.understudy.model.Keys;
import dev.understudy.model.Lease;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import dev.understudy.store.Store;
import dev.understudy.store.StoreUnavailableException;
import dev.understudy.store.TxnResult;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The holder's side of this server's lease. Each renewal is a compare-and-set on the lease record; the lease is
 * counted from when the renewal was SENT, on this agent's monotonic clock, so it ends before any observer's count
 * (which starts when the observer applied it). A failed compare-and-set means another server revoked the lease after
 * taking over: this agent must stop every app before it may acquire a new one.
 */
public final class LeaseKeeper {
  private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

  private final String self;
  private final Store store;
  private final Ticker ticker;
  private final Duration lease;
  private final Duration guard;
  private final Map<Long, Long> sentAt = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Long> e) { return size() > 64; }
  };
  private volatile long validUntil = Long.MIN_VALUE;
  private volatile boolean held;
  private long incarnation;
  private long version;
  private long seq;
  private volatile String lostReason = "not acquired yet";

  public LeaseKeeper(String self, Store store, Ticker ticker, Duration lease, Duration guard) {
    this.self = self;
    this.store = store;
    this.ticker = ticker;
    this.lease = lease;
    this.guard = guard;
  }

  /**
   * One renewal round. {@code noLocalApps} must be true before a new lease is acquired after a loss, so an agent
   * never holds a fresh lease while processes from the revoked one still run.
   */
  public synchronized void renew(BooleanSupplier noLocalApps) {
    try {
      if (!held) {
        if (noLocalApps.getAsBoolean()) acquire();
        return;
      }
      long s = ++seq;
      long sent = ticker.nanos();
      sentAt.put(s, sent);
      TxnResult r = store.cas(Keys.lease(self), Json.write(new Lease(self, incarnation, s, false, null)), version);
      if (r.ok()) {
        version = r.version();
        validUntil = sent + lease.toNanos();
        return;
      }
      reconcileAfterConflict();
    } catch (StoreUnavailableException e) {
      log.debug("lease renewal outcome unknown: {}", e.getMessage());
    }
  }

  private void acquire() {
    Optional<Entry> cur = store.get(Keys.lease(self));
    long inc = Math.max(System.currentTimeMillis(), incarnation + 1);
    long sent = ticker.nanos();
    TxnResult r = store.cas(Keys.lease(self), Json.write(new Lease(self, inc, 1, false, null)),
        cur.map(Entry::version).orElse(0L));
    if (r.ok()) {
      incarnation = inc;
      seq = 1;
      version = r.version();
      validUntil = sent + lease.toNanos();
      held = true;
      lostReason = null;
      log.info("{} acquired its lease (incarnation {})", self, inc);
    }
  }

  /** The CAS failed: either an earlier renewal of ours whose reply we missed did commit, or we were revoked. */
  private void reconcileAfterConflict() {
    Optional<Entry> cur = store.get(Keys.lease(self));
    if (cur.isPresent()) {
      Lease l = Json.read(cur.get().value(), Lease.class);
      Long sent = sentAt.get(l.seq());
      if (!l.revoked() && l.incarnation() == incarnation && sent != null) {
        version = cur.get().version();
        validUntil = sent + lease.toNanos();
        return;
      }
      lostReason = l.revoked() ? "revoked by " + l.revokedBy() + " after a takeover" : "replaced by another incarnation";
    } else {
      lostReason = "lease record deleted";
    }
    held = false;
    validUntil = Long.MIN_VALUE;
    log.warn("{} lost its lease: {}; stopping every app before acquiring a new one", self, lostReason);
  }

  /** True while this server may run apps: the lease outlives the guard timeout from now. */
  /** Log index of this agent's latest successful lease write: its replica must have applied it before it starts apps. */
  public long lastWriteIndex() { return held ? version : 0; }

  public boolean valid() { return held && ticker.nanos() + guard.toNanos() < validUntil; }

  public long remainingMillis() { return held ? Math.max(0, (validUntil - ticker.nanos()) / 1_000_000) : 0; }

  public String lostReason() { return valid() ? null : (lostReason != null ? lostReason : "renewals not confirmed in time"); }
}
