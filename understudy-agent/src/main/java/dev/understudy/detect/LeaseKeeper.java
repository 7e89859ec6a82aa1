package dev.understudy.detect;

import dev.understudy.model.Keys;
import dev.understudy.model.Lease;
import dev.understudy.model.Parting;
import dev.understudy.model.Revocation;
import dev.understudy.store.Change;
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
 * revocation record is still at the version it had when the lease was acquired. It goes one of two ways:
 * <ul>
 * <li><b>batched</b> (when a channel is set and the last renewal was confirmed): a request (incarnation, sequence,
 *     revocation version) to the Raft leader's agent, which writes every server's request of the round in one log entry
 *     ({@link LeaseBatcher}). This replica's applying it is the confirmation. If it has not within half a round
 *     ({@link #checkBatched}), the same renewal is written directly.</li>
 * <li><b>direct</b>: this agent's own transaction, pipelined (one sent every round without waiting for the last), so a
 *     Raft leader change delays it without fencing this server. Its reply is the confirmation.</li>
 * </ul>
 * A server that sees no confirmation renews directly only, so a server whose database link is cut while its heartbeats
 * pass stops being renewed by the leader's agent and its lease ends for the others too.
 * The lease is counted from when the renewal was first SENT, either way, on this agent's monotonic clock: it ends
 * before any observer's count, which starts when the observer applied it. A renewal refused by the revocation check
 * means another server took over after the lease had expired: this agent must stop every app before it may acquire a
 * new one.
 */
public final class LeaseKeeper {
  private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);
  private static final int MAX_IN_FLIGHT = 16;
  private static final int REMEMBERED = 64;

  /** Sends a renewal request to the Raft leader's agent; false when there is none to send to (renew directly). */
  public interface Channel {
    boolean send(long leaseIncarnation, long seq, long revocationVersion);
  }

  private final String self;
  private final String leaseKey;
  private final Store store;
  private final Ticker ticker;
  private final Duration lease;
  private final Duration margin;
  private final Duration startSlack;
  private final AtomicInteger inFlight = new AtomicInteger();
  /** Guards what confirmations change; never held while waiting on the database (the store watch takes it). */
  private final Object state = new Object();
  private volatile long validUntil = Long.MIN_VALUE;
  private volatile boolean held;
  private volatile long lastWriteIndex;
  private volatile long incarnation;
  private long confirmedSeq;
  private long revocationVersion;
  private long seq;
  /** When each of the last renewals was first sent, by sequence number. */
  private final long[] sentSeq = new long[REMEMBERED];
  private final long[] sentAt = new long[REMEMBERED];
  private long awaitingBatch;
  private volatile Channel channel = (inc, s, rv) -> false;
  private volatile Runnable moved = () -> { };
  private final java.util.concurrent.atomic.AtomicLong batchedSent = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong directSent = new java.util.concurrent.atomic.AtomicLong();
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
    this.leaseKey = Keys.lease(self);
    this.store = store;
    this.ticker = ticker;
    this.lease = lease;
    this.margin = margin;
    this.startSlack = startSlack;
    store.watch(this::onChanges);
  }

  /**
   * Called (on whichever thread confirmed or lost the lease, without locks held) every time {@link #runUntil()} may
   * have changed: the fence is told the new deadline then, instead of being polled for it.
   */
  public void onMoved(Runnable r) { moved = r; }

  /** Renewals go through {@code c} from now on while it works (the default sends none: every renewal is direct). */
  public void batchThrough(Channel c) { channel = c; }

  /**
   * One renewal round. {@code noLocalApps} must be true before a new lease is acquired after a loss, so an agent
   * never holds a fresh lease while processes from the revoked one still run.
   */
  public synchronized void renew(BooleanSupplier noLocalApps) {
    try {
      if (!held) {
        // apps adopted from an earlier life run under the lease it parted with: this life's own lease replaces it
        if (noLocalApps.getAsBoolean() || inheriting()) acquire();
        return;
      }
      long s = ++seq;
      long sent = ticker.nanos();
      boolean lastConfirmed;
      synchronized (state) {
        sentSeq[(int) (s % REMEMBERED)] = s;
        sentAt[(int) (s % REMEMBERED)] = sent;
        lastConfirmed = confirmedSeq >= s - 1;
      }
      if (lastConfirmed && channel.send(incarnation, s, revocationVersion)) {
        awaitingBatch = s;
        batchedSent.incrementAndGet();
        return;
      }
      direct(s, sent);
    } catch (StoreUnavailableException e) {
      log.debug("lease renewal outcome unknown: {}", e.getMessage());
    }
  }

  /**
   * Half a round after a request went to the leader's agent: if this replica has not applied it yet, the same renewal
   * is written directly (a lost request, a leader that just changed, a slow batch). It still counts from the first send.
   */
  public synchronized void checkBatched() {
    long s = awaitingBatch;
    awaitingBatch = 0;
    if (!held || s == 0 || s != seq) return;
    long sent;
    synchronized (state) {
      if (confirmedSeq >= s) return;
      sent = sentAt[(int) (s % REMEMBERED)];
    }
    try {
      direct(s, sent);
    } catch (StoreUnavailableException e) {
      log.debug("lease renewal outcome unknown: {}", e.getMessage());
    }
  }

  private void direct(long s, long sent) {
    if (inFlight.get() >= MAX_IN_FLIGHT) return;
    long inc = incarnation;
    inFlight.incrementAndGet();
    java.util.concurrent.CompletableFuture<TxnResult> sending;
    try {
      sending = store.txnAsync(List.of(Op.check(Keys.revocation(self), revocationVersion),
          Op.put(leaseKey, Json.write(record(inc, s)))));
    } catch (RuntimeException e) {
      inFlight.decrementAndGet(); // refused before it was sent
      throw e;
    }
    directSent.incrementAndGet();
    sending.whenComplete((r, err) -> {
      inFlight.decrementAndGet();
      if (err == null) completed(inc, s, sent, r);
    });
  }

  private void completed(long inc, long s, long sent, TxnResult r) {
    if (r.ok()) {
      long tookMs = (ticker.nanos() - sent) / 1_000_000;
      // a renewal that takes a third of the lease eats the slack that keeps this server's apps running
      if (tookMs > lease.toMillis() / 3) log.warn("{}: a lease renewal took {} ms (lease {} ms)", self, tookMs, lease.toMillis());
      confirm(inc, s, sent, r.version());
      return;
    }
    String reason = revokedBy().map(by -> "revoked by " + by + " after a takeover").orElse("revoked");
    synchronized (state) {
      if (!held || inc != incarnation) return;
      lostReason = reason;
      held = false;
      validUntil = Long.MIN_VALUE;
    }
    moved.run();
    log.warn("{} lost its lease: {}; stopping every app before acquiring a new one", self, lostReason);
  }

  /** This replica applied a write of this server's lease record: a renewal of this incarnation confirms. */
  private void onChanges(List<Change> changes) {
    for (Change c : changes) {
      if (!c.key().equals(leaseKey) || c.newValue() == null) continue;
      Lease l;
      try {
        l = Json.read(c.newValue(), Lease.class);
      } catch (RuntimeException e) {
        continue;
      }
      confirm(l.incarnation(), l.seq(), Long.MIN_VALUE, c.version());
    }
  }

  /** {@code sent}: when the renewal was first sent; MIN_VALUE: look it up (unknown: not ours, or too old to count). */
  private void confirm(long inc, long s, long sent, long index) {
    boolean later;
    synchronized (state) {
      if (!held || inc != incarnation) return;
      if (sent == Long.MIN_VALUE) {
        int i = (int) Math.floorMod(s, (long) REMEMBERED);
        if (sentSeq[i] != s) return;
        sent = sentAt[i];
      }
      later = sent + lease.toNanos() > validUntil;
      validUntil = Math.max(validUntil, sent + lease.toNanos());
      lastWriteIndex = Math.max(lastWriteIndex, index);
      confirmedSeq = Math.max(confirmedSeq, s);
    }
    if (later) moved.run();
  }

  private Optional<String> revokedBy() {
    try {
      return store.localGet(Keys.revocation(self)).map(e -> Json.read(e.value(), Revocation.class).by());
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** This server's lease record: its own length and margin go with it, for every observer to count by. */
  private Lease record(long inc, long s) { return new Lease(self, inc, s, lease.toMillis(), margin.toMillis()); }

  private void acquire() {
    long rv = store.get(Keys.revocation(self)).map(Entry::version).orElse(0L);
    long inc = Math.max(incarnations.getAsLong(), incarnation + 1);
    long sent = ticker.nanos();
    // an earlier life's parting record says nothing once this incarnation holds the lease; it goes with the first write
    TxnResult r = store.txn(List.of(Op.check(Keys.revocation(self), rv), Op.put(leaseKey, Json.write(record(inc, 1))),
        Op.delete(Keys.parting(self))));
    if (r.ok()) {
      synchronized (state) {
        incarnation = inc;
        revocationVersion = rv;
        seq = 1;
        java.util.Arrays.fill(sentSeq, 0);
        sentSeq[1] = 1;
        sentAt[1] = sent;
        confirmedSeq = 1;
        lastWriteIndex = r.version();
        validUntil = sent + lease.toNanos();
        held = true;
        everHeld = true;
        lostReason = null;
      }
      moved.run();
      log.info("{} acquired its lease (incarnation {})", self, inc);
    }
  }

  /** The lease an earlier life of this agent parted with (its apps adopted): this server's until this life acquires one. */
  private volatile long inheritedRunUntil = Long.MIN_VALUE;
  private volatile boolean everHeld;

  /** Apps adopted from an earlier life of this agent run until {@code runUntilNanos} unless this life's lease comes first. */
  public void inherit(long runUntilNanos) { inheritedRunUntil = runUntilNanos; }

  private boolean inheriting() { return !everHeld && ticker.nanos() < inheritedRunUntil; }

  /**
   * This agent stops to restart: a last renewal whose record carries {@code grace} as its length, so every observer
   * waits that long (and the margin) before it may take over, while the fence guards the apps until the returned
   * deadline. With it, a {@link Parting} record: observers give this server nothing new until its next life, and a
   * hand-over they committed before they saw it waits for that life instead of failing over. {@link Long#MIN_VALUE}
   * when it was not confirmed (then the apps must be stopped as usual).
   */
  public synchronized long part(Duration grace) {
    if (!held) return Long.MIN_VALUE;
    long s = ++seq;
    long sent = ticker.nanos();
    try {
      TxnResult r = store.txn(List.of(Op.check(Keys.revocation(self), revocationVersion),
          Op.put(leaseKey, Json.write(new Lease(self, incarnation, s, grace.toMillis(), margin.toMillis()))),
          Op.put(Keys.parting(self), Json.write(new Parting(self, incarnation)))));
      if (!r.ok()) return Long.MIN_VALUE;
    } catch (StoreUnavailableException e) {
      return Long.MIN_VALUE;
    }
    synchronized (state) {
      if (!held) return Long.MIN_VALUE;
      validUntil = Math.max(validUntil, sent + grace.toNanos());
      confirmedSeq = Math.max(confirmedSeq, s);
    }
    moved.run();
    return runUntil();
  }

  /** Renewal requests sent to the leader's agent, and renewals written directly (fallbacks included), since start. */
  public long batchedRenewals() { return batchedSent.get(); }

  public long directRenewals() { return directSent.get(); }

  /** Log index of this agent's latest successful lease write: its replica must have applied it before it starts apps. */
  public long lastWriteIndex() { return held ? lastWriteIndex : 0; }

  /**
   * The instant (ticker nanos) this server's apps must all be dead by unless the lease is renewed before: the lease's
   * end minus the margin. {@link Long#MIN_VALUE} when no lease is held (a revoked one included: kill at once).
   */
  public long runUntil() { return held ? validUntil - margin.toNanos() : everHeld ? Long.MIN_VALUE : inheritedRunUntil; }

  /** True while this server may run apps: before {@link #runUntil()} (an inherited lease included). */
  public boolean valid() { return ticker.nanos() < runUntil(); }

  /** True while this server may start an app: the start slack is left before {@link #runUntil()}. */
  public boolean mayStart() { return held && ticker.nanos() + startSlack.toNanos() < runUntil(); }

  public long remainingMillis() { return held ? Math.max(0, (validUntil - ticker.nanos()) / 1_000_000) : 0; }

  public long incarnation() { return incarnation; }

  public String lostReason() { return valid() ? null : (lostReason != null ? lostReason : "renewals not confirmed in time"); }
}
