package dev.understudy.detect;

import dev.understudy.model.Keys;
import dev.understudy.model.Lease;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.Store;
import dev.understudy.store.TxnResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On the Raft leader's agent: every server's lease renewal request of a round (they all fall on the same wall-clock
 * instants) written as one log entry of independent transactions, instead of one entry per server. An idle agent's
 * CPU was mostly those entries: each is a replication round and an fsync on every replica.
 *
 * <p>A request is written only on top of the lease record it was checked against in this replica: the same
 * incarnation, an older sequence (a replayed or reordered request is dropped), and a revocation record still at the
 * version the holder acquired under. The transaction checks both versions again when it is applied. The leader's agent
 * only passes the holder's words on: the holder counts its lease from when it sent the request, an observer from when
 * it applied the entry, which is later, as for a renewal the holder writes itself. A request that is dropped, refused
 * or lost (this agent is no longer the leader, the entry failed) is simply not confirmed: its holder writes it directly
 * half a round later ({@link LeaseKeeper#checkBatched}).
 */
public final class LeaseBatcher {
  private static final Logger log = LoggerFactory.getLogger(LeaseBatcher.class);

  private final Store replica;
  private final Function<List<List<Op>>, CompletableFuture<List<TxnResult>>> writer;
  private final BooleanSupplier leader;
  private final Scheduler timer;
  private final long gatherMillis;
  private final long giveUpMillis;
  private final Map<String, HeartbeatPacket.Renewal> pending = new HashMap<>();
  private boolean scheduled;
  private boolean inFlight;
  private final AtomicLong entries = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();

  /**
   * {@code writer} writes independent transactions in one entry; {@code leader} says whether this agent's replica
   * leads now; {@code gatherMillis}: how long after the first request of a round the entry is written, for the others'
   * requests to arrive; {@code giveUpMillis}: how long an unanswered entry holds back the next one (its holders have
   * renewed directly by then; a write stuck on a leadership just lost must not stop batching for good).
   */
  public LeaseBatcher(Store replica, Function<List<List<Op>>, CompletableFuture<List<TxnResult>>> writer,
                      BooleanSupplier leader, Scheduler timer, long gatherMillis, long giveUpMillis) {
    this.replica = replica;
    this.writer = writer;
    this.leader = leader;
    this.timer = timer;
    this.gatherMillis = gatherMillis;
    this.giveUpMillis = giveUpMillis;
  }

  /** Runs a task after a delay (a real timer, or a test's queue). May throw RejectedExecutionException when closing. */
  public interface Scheduler {
    void schedule(Runnable task, long delayMillis);

    static Scheduler of(ScheduledExecutorService s) { return (task, ms) -> s.schedule(task, ms, TimeUnit.MILLISECONDS); }
  }

  /** A server's request (from its heartbeat packet, or this agent's own). Never blocks. */
  public void offer(String server, HeartbeatPacket.Renewal r) {
    synchronized (this) {
      var prev = pending.get(server);
      if (prev != null && prev.leaseIncarnation() == r.leaseIncarnation() && prev.leaseSeq() >= r.leaseSeq()) return;
      pending.put(server, r);
      if (scheduled || inFlight) return;
      scheduled = true;
    }
    schedule(gatherMillis);
  }

  private void schedule(long delayMillis) {
    try {
      timer.schedule(this::flush, delayMillis);
    } catch (RejectedExecutionException closing) {
      synchronized (this) { scheduled = false; }
    }
  }

  private void flush() {
    Map<String, HeartbeatPacket.Renewal> take;
    synchronized (this) {
      scheduled = false;
      take = new TreeMap<>(pending);
      pending.clear();
      if (take.isEmpty()) return;
      inFlight = true;
    }
    List<List<Op>> txns = new ArrayList<>();
    try {
      if (leader.getAsBoolean()) {
        take.forEach((server, r) -> {
          List<Op> t = txnFor(server, r);
          if (t != null) txns.add(t);
        });
      }
    } catch (RuntimeException e) {
      log.debug("lease batch not built: {}", e.toString());
      txns.clear();
    }
    dropped.addAndGet(take.size() - txns.size());
    if (txns.isEmpty()) {
      done();
      return;
    }
    CompletableFuture<List<TxnResult>> f;
    try {
      f = writer.apply(txns);
    } catch (RuntimeException e) {
      log.debug("lease batch not sent: {}", e.toString());
      done();
      return;
    }
    entries.incrementAndGet();
    java.util.concurrent.atomic.AtomicBoolean answered = new java.util.concurrent.atomic.AtomicBoolean();
    f.whenComplete((results, err) -> {
      if (results != null) written.addAndGet(results.stream().filter(TxnResult::ok).count());
      if (answered.compareAndSet(false, true)) done();
    });
    // not waiting loses nothing: a late entry still renews from its requests' sends, or a newer write refuses it
    timer.schedule(() -> {
      if (answered.compareAndSet(false, true)) done();
    }, giveUpMillis);
  }

  /** The batch is answered (its holders see the outcome in their replicas): requests that came meanwhile go now. */
  private void done() {
    boolean again;
    synchronized (this) {
      inFlight = false;
      again = !pending.isEmpty() && !scheduled;
      if (again) scheduled = true;
    }
    if (again) schedule(0);
  }

  /** The transaction for one request, or null when this replica says it would not be a renewal of the current lease. */
  private List<Op> txnFor(String server, HeartbeatPacket.Renewal r) {
    Entry cur = replica.localGet(Keys.lease(server)).orElse(null);
    if (cur == null) return null;
    Lease l = Json.read(cur.value(), Lease.class);
    if (l.incarnation() != r.leaseIncarnation() || l.seq() >= r.leaseSeq()) return null;
    long rv = replica.localGet(Keys.revocation(server)).map(Entry::version).orElse(0L);
    if (rv != r.revocationVersion()) return null;
    return List.of(Op.check(Keys.revocation(server), rv),
        // the holder's lease length and margin as it wrote them when it acquired this incarnation
        Op.put(Keys.lease(server), Json.write(l.renewed(r.leaseSeq())), cur.version()));
  }

  /** Log entries written, renewals they applied, requests dropped before writing, since start. */
  public long entries() { return entries.get(); }

  public long renewalsWritten() { return written.get(); }

  public long requestsDropped() { return dropped.get(); }
}
