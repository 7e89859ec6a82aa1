package dev.understudy.detect;

import dev.understudy.model.Keys;
import dev.understudy.model.Lease;
import dev.understudy.model.Revocation;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.Store;
import dev.understudy.store.StoreUnavailableException;
import dev.understudy.store.TxnResult;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The holder's side of this server's lease. A renewal writes the lease record on condition that this server's
 * revocation record is still at the version it had when the lease was acquired; renewals are pipelined (one sent every
 * round without waiting for the last), so a Raft leader change delays them without fencing this server. The lease is
 * counted from when the renewal was SENT, on this agent's monotonic clock: it ends before any observer's count (which
 * starts when the observer applied it). A renewal refused by the revocation check means another server took over
 * after the lease had expired: this agent must stop every app before it may acquire a new one.
 */
public final class LeaseKeeper {
  private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);
  private static final int MAX_IN_FLIGHT = 16;

  private final String self;
  private final Store store;
  private final Ticker ticker;
  private final Duration lease;
  private final Duration margin;
  private final Duration startSlack;
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile long validUntil = Long.MIN_VALUE;
  private volatile boolean held;
  private volatile long lastWriteIndex;
  private long incarnation;
  private long revocationVersion;
  private long seq;
  private volatile String lostReason = "not acquired yet";

  private final java.util.function.LongSupplier incarnations;

  public LeaseKeeper(String self, Store store, Ticker ticker, Duration lease, Duration margin, Duration startSlack) {
    this(self, store, ticker, lease, margin, startSlack, System::currentTimeMillis);
  }

  /**
   * {@code margin}: apps must be dead this long before the lease ends (the fence kills them then), a slack for the
   * fence being scheduled late on a starved machine; an observer waits the margin again after the end.
   * {@code startSlack}: an app is started only while at least this much of that time is left.
   * {@code incarnations}: grows across restarts of this agent (the wall clock; a counter in simulations).
   */
  public LeaseKeeper(String self, Store store, Ticker ticker, Duration lease, Duration margin, Duration startSlack,
                     java.util.function.LongSupplier incarnations) {
    this.incarnations = incarnations;
    this.self = self;
    this.store = store;
    this.ticker = ticker;
    this.lease = lease;
    this.margin = margin;
    this.startSlack = startSlack;
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
      if (inFlight.get() >= MAX_IN_FLIGHT) return;
      long s = ++seq;
      long inc = incarnation;
      long sent = ticker.nanos();
      inFlight.incrementAndGet();
      java.util.concurrent.CompletableFuture<TxnResult> sending;
      try {
        sending = store.txnAsync(List.of(Op.check(Keys.revocation(self), revocationVersion),
            Op.put(Keys.lease(self), Json.write(new Lease(self, inc, s)))));
      } catch (RuntimeException e) {
        inFlight.decrementAndGet(); // refused before it was sent
        throw e;
      }
      sending.whenComplete((r, err) -> {
        inFlight.decrementAndGet();
        if (err == null) completed(inc, sent, r);
      });
    } catch (StoreUnavailableException e) {
      log.debug("lease renewal outcome unknown: {}", e.getMessage());
    }
  }

  private synchronized void completed(long inc, long sent, TxnResult r) {
    if (!held || inc != incarnation) return;
    if (r.ok()) {
      long tookMs = (ticker.nanos() - sent) / 1_000_000;
      // a renewal that takes a third of the lease eats the slack that keeps this server's apps running
      if (tookMs > lease.toMillis() / 3) log.warn("{}: a lease renewal took {} ms (lease {} ms)", self, tookMs, lease.toMillis());
      validUntil = Math.max(validUntil, sent + lease.toNanos());
      lastWriteIndex = Math.max(lastWriteIndex, r.version());
      return;
    }
    lostReason = revokedBy().map(by -> "revoked by " + by + " after a takeover").orElse("revoked");
    held = false;
    validUntil = Long.MIN_VALUE;
    log.warn("{} lost its lease: {}; stopping every app before acquiring a new one", self, lostReason);
  }

  private Optional<String> revokedBy() {
    try {
      return store.localGet(Keys.revocation(self)).map(e -> Json.read(e.value(), Revocation.class).by());
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  private void acquire() {
    long rv = store.get(Keys.revocation(self)).map(Entry::version).orElse(0L);
    long inc = Math.max(incarnations.getAsLong(), incarnation + 1);
    long sent = ticker.nanos();
    TxnResult r = store.txn(List.of(Op.check(Keys.revocation(self), rv), Op.put(Keys.lease(self), Json.write(new Lease(self, inc, 1)))));
    if (r.ok()) {
      incarnation = inc;
      revocationVersion = rv;
      seq = 1;
      lastWriteIndex = r.version();
      validUntil = sent + lease.toNanos();
      held = true;
      lostReason = null;
      log.info("{} acquired its lease (incarnation {})", self, inc);
    }
  }

  /** Log index of this agent's latest successful lease write: its replica must have applied it before it starts apps. */
  public long lastWriteIndex() { return held ? lastWriteIndex : 0; }

  /**
   * The instant (ticker nanos) this server's apps must all be dead by unless the lease is renewed before: the lease's
   * end minus the margin. {@link Long#MIN_VALUE} when no lease is held (a revoked one included: kill at once).
   */
  public long runUntil() { return held ? validUntil - margin.toNanos() : Long.MIN_VALUE; }

  /** True while this server may run apps: before {@link #runUntil()}. */
  public boolean valid() { return held && ticker.nanos() < runUntil(); }

  /** True while this server may start an app: the start slack is left before {@link #runUntil()}. */
  public boolean mayStart() { return held && ticker.nanos() + startSlack.toNanos() < runUntil(); }

  public long remainingMillis() { return held ? Math.max(0, (validUntil - ticker.nanos()) / 1_000_000) : 0; }

  public long incarnation() { return incarnation; }

  public String lostReason() { return valid() ? null : (lostReason != null ? lostReason : "renewals not confirmed in time"); }
}
