package dev.understudy.detect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.model.Keys;
import dev.understudy.model.Lease;
import dev.understudy.model.Revocation;
import dev.understudy.store.InMemoryStore;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.StoreUnavailableException;
import dev.understudy.store.TxnResult;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Renewals through the Raft leader's agent ({@link LeaseBatcher}) on a fake clock, with the network between the holder
 * and the leader's agent, and the database's commits, in the test's hands.
 */
class LeaseBatchTest {
  static final Duration LEASE = Duration.ofMillis(800);
  static final Duration MARGIN = Duration.ofMillis(80);
  final FakeTicker clock = new FakeTicker();
  final InMemoryStore store = new InMemoryStore();
  final LeaseTracker observer = new LeaseTracker(clock, LEASE, MARGIN);
  /** The batcher's timer: tasks and when they are due, on the fake clock. */
  final List<long[]> timerDue = new ArrayList<>();
  final List<Runnable> timerTasks = new ArrayList<>();
  /** Batches written but not yet committed: applied when the test says. */
  final ArrayDeque<Runnable> uncommitted = new ArrayDeque<>();
  boolean leads = true;
  boolean udpUp = true;
  boolean commitAtOnce = true;
  boolean storeUp = true;
  int batchEntries;
  final LeaseBatcher batcher = new LeaseBatcher(store, this::writeBatch, () -> leads, this::schedule, 20, 200);
  final List<HeartbeatPacket.Renewal> sent = new ArrayList<>();
  /** What the holder's own replica has applied but not yet told it: its replica may lag the observer's. */
  final ArrayDeque<List<dev.understudy.store.Change>> holderLag = new ArrayDeque<>();
  boolean holderReplicaLags;
  final LeaseKeeper holder = new LeaseKeeper("s1", holderReplica(), clock, LEASE, MARGIN, Duration.ofMillis(200), () -> 1000);

  /** The shared store, seen by the holder through a watch that lags when the test says. */
  private dev.understudy.store.Store holderReplica() {
    return new dev.understudy.store.Store() {
      public java.util.Optional<dev.understudy.store.Entry> get(String key) { return store.get(key); }
      public List<dev.understudy.store.Entry> list(String prefix) { return store.list(prefix); }
      public java.util.Optional<dev.understudy.store.Entry> localGet(String key) { return store.localGet(key); }
      public List<dev.understudy.store.Entry> localList(String prefix) { return store.localList(prefix); }
      public TxnResult txn(List<Op> ops) { return store.txn(ops); }
      public CompletableFuture<TxnResult> txnAsync(List<Op> ops) { return store.txnAsync(ops); }
      public void close() {}
      public void watch(java.util.function.Consumer<List<dev.understudy.store.Change>> w) {
        store.watch(changes -> {
          if (holderReplicaLags || !holderLag.isEmpty()) {
            holderLag.add(changes);
          } else {
            w.accept(changes);
          }
        });
        lagged = w;
      }
    };
  }

  java.util.function.Consumer<List<dev.understudy.store.Change>> lagged;

  LeaseBatchTest() {
    store.watch(observer::onChanges);
    holder.batchThrough((inc, seq, rv) -> {
      var r = new HeartbeatPacket.Renewal(inc, seq, rv);
      sent.add(r);
      if (udpUp) batcher.offer("s1", r);
      return true;
    });
  }

  /** Independent transactions, as the state machine applies a batch entry. */
  private CompletableFuture<List<TxnResult>> writeBatch(List<List<Op>> txns) {
    batchEntries++;
    var f = new CompletableFuture<List<TxnResult>>();
    Runnable commit = () -> {
      try {
        List<TxnResult> out = new ArrayList<>();
        for (List<Op> t : txns) out.add(store.txn(t));
        f.complete(out);
      } catch (StoreUnavailableException e) {
        f.completeExceptionally(e);
      }
    };
    if (commitAtOnce) commit.run();
    else uncommitted.add(commit);
    return f;
  }

  private void schedule(Runnable task, long delayMillis) {
    timerDue.add(new long[] {clock.nanos() + delayMillis * 1_000_000L});
    timerTasks.add(task);
  }

  /** Runs every task due by now (tasks may schedule more). */
  private void runTimers() {
    for (boolean ran = true; ran; ) {
      ran = false;
      for (int i = 0; i < timerTasks.size(); i++) {
        if (timerDue.get(i)[0] <= clock.nanos()) {
          timerDue.remove(i);
          timerTasks.remove(i).run();
          ran = true;
          break;
        }
      }
    }
  }

  /** The gather window passes, and the batcher writes. */
  private void gather() {
    clock.advance(Duration.ofMillis(20));
    runTimers();
  }

  /** One renewal round: the request, the batch, then half a round later the holder's check. */
  private void round() {
    holder.renew(() -> true);
    gather();
    clock.advance(Duration.ofMillis(80));
    holder.checkBatched();
    clock.advance(Duration.ofMillis(100));
  }

  private Lease leaseRecord() { return Json.read(store.localGet(Keys.lease("s1")).orElseThrow().value(), Lease.class); }

  @Test
  void renewalsGoThroughTheLeadersAgentAndConfirmWhenTheReplicaAppliesThem() {
    holder.renew(() -> true); // acquires: always direct
    for (int i = 0; i < 20; i++) {
      round();
      assertThat(holder.valid()).isTrue();
      assertThat(observer.expired("s1")).isFalse();
    }
    assertThat(holder.directRenewals()).as("no renewal written directly").isZero();
    assertThat(holder.batchedRenewals()).isEqualTo(20);
    assertThat(batchEntries).isEqualTo(20);
    assertThat(leaseRecord().seq()).isEqualTo(21);
    assertThat(holder.remainingMillis()).as("counted from the request's send, 200 ms ago").isEqualTo(600);
  }

  @Test
  void replayedStaleAndMadeUpRequestsWriteNothing() {
    holder.renew(() -> true); // acquires: always direct
    for (int i = 0; i < 3; i++) round();
    Lease before = leaseRecord();
    long version = store.localGet(Keys.lease("s1")).orElseThrow().version();
    HeartbeatPacket.Renewal last = sent.get(sent.size() - 1);
    // a replay of the last request, an older one, another incarnation's, one past a revocation, a server with no lease
    List<HeartbeatPacket.Renewal> bad = List.of(last, sent.get(0),
        new HeartbeatPacket.Renewal(last.leaseIncarnation() + 1, last.leaseSeq() + 1, last.revocationVersion()),
        new HeartbeatPacket.Renewal(last.leaseIncarnation(), last.leaseSeq() + 1, last.revocationVersion() + 7));
    long dropped = batcher.requestsDropped();
    for (HeartbeatPacket.Renewal r : bad) {
      batcher.offer("s1", r);
      gather();
    }
    batcher.offer("s9", new HeartbeatPacket.Renewal(1, 1, 0));
    gather();
    for (int i = 0; i < 1000; i++) batcher.offer("s1", bad.get(3)); // a flood of one: it coalesces, it does not queue
    gather();
    assertThat(batcher.requestsDropped() - dropped).as("each evaluated once and dropped").isEqualTo(6);
    assertThat(leaseRecord()).isEqualTo(before);
    assertThat(store.localGet(Keys.lease("s1")).orElseThrow().version()).isEqualTo(version);
    assertThat(store.localGet(Keys.lease("s9"))).isEmpty();
  }

  @Test
  void aLostRequestIsWrittenDirectlyHalfARoundLaterAndStillCountsFromItsFirstSend() {
    holder.renew(() -> true);
    round();
    udpUp = false;
    long sentAt = clock.nanos();
    holder.renew(() -> true);
    assertThat(leaseRecord().seq()).as("nothing reached the leader's agent").isEqualTo(2);
    clock.advance(Duration.ofMillis(100));
    holder.checkBatched();
    assertThat(leaseRecord().seq()).as("written directly").isEqualTo(3);
    assertThat(holder.directRenewals()).isEqualTo(1);
    assertThat(holder.runUntil()).isEqualTo(sentAt + LEASE.toNanos() - MARGIN.toNanos());
    udpUp = true;
    clock.advance(Duration.ofMillis(100));
    round();
    assertThat(holder.directRenewals()).as("confirmed again: back to batching").isEqualTo(1);
    assertThat(leaseRecord().seq()).isEqualTo(4);
  }

  @Test
  void aHolderCutOffFromTheDatabaseStopsAskingSoItsLeaseEndsForEveryone() {
    holder.renew(() -> true);
    round();
    store.setAvailable(false); // this holder's database link is cut; its heartbeats still pass
    leads = false; // and its batches cannot commit either
    int before = sent.size();
    for (int i = 0; i < 6; i++) round();
    assertThat(sent.size() - before).as("one request unconfirmed, then direct renewals only").isEqualTo(1);
    assertThat(holder.valid()).isFalse();
    store.setAvailable(true);
    assertThat(observer.expired("s1")).as("nothing renewed it meanwhile").isTrue();
  }

  @Test
  void theBatcherWritesOnlyRenewalsOfTheLeaseItsReplicaHolds() {
    holder.renew(() -> true);
    round();
    Lease l = leaseRecord();
    long rv = 0;
    batcher.offer("s1", new HeartbeatPacket.Renewal(l.incarnation(), l.seq(), rv)); // a replay: not newer
    batcher.offer("s2", new HeartbeatPacket.Renewal(1, 5, 0)); // no lease acquired
    gather();
    batcher.offer("s1", new HeartbeatPacket.Renewal(l.incarnation() + 1, l.seq() + 1, rv)); // another incarnation
    gather();
    batcher.offer("s1", new HeartbeatPacket.Renewal(l.incarnation(), l.seq() + 1, rv + 7)); // another revocation version
    gather();
    leads = false;
    batcher.offer("s1", new HeartbeatPacket.Renewal(l.incarnation(), l.seq() + 1, rv));
    gather();
    assertThat(leaseRecord()).isEqualTo(l);
    assertThat(batcher.requestsDropped()).isEqualTo(5);
    leads = true;
    batcher.offer("s1", new HeartbeatPacket.Renewal(l.incarnation(), l.seq() + 1, rv));
    gather();
    assertThat(leaseRecord().seq()).isEqualTo(l.seq() + 1);
  }

  @Test
  void requestsOfOneRoundShareAnEntryAndThoseArrivingWhileItCommitsGoInTheNext() {
    for (String s : List.of("s2", "s3")) store.put(Keys.lease(s), Json.write(new Lease(s, 1, 1)));
    commitAtOnce = false;
    batcher.offer("s2", new HeartbeatPacket.Renewal(1, 2, 0));
    batcher.offer("s3", new HeartbeatPacket.Renewal(1, 2, 0));
    gather();
    assertThat(batchEntries).isEqualTo(1);
    batcher.offer("s2", new HeartbeatPacket.Renewal(1, 3, 0));
    gather();
    assertThat(batchEntries).as("one entry in flight at a time").isEqualTo(1);
    uncommitted.poll().run();
    gather();
    assertThat(batchEntries).isEqualTo(2);
    uncommitted.poll().run();
    assertThat(Json.read(store.localGet(Keys.lease("s2")).orElseThrow().value(), Lease.class).seq()).isEqualTo(3);
    assertThat(Json.read(store.localGet(Keys.lease("s3")).orElseThrow().value(), Lease.class).seq()).isEqualTo(2);
    // an entry never answered (a write stuck on a leadership just lost) holds the next back for a round only
    batcher.offer("s3", new HeartbeatPacket.Renewal(1, 3, 0));
    gather();
    batcher.offer("s3", new HeartbeatPacket.Renewal(1, 4, 0));
    gather();
    assertThat(batchEntries).isEqualTo(3);
    clock.advance(Duration.ofMillis(200));
    runTimers();
    assertThat(batchEntries).isEqualTo(4);
  }

  @Test
  void theFenceIsToldEveryMoveOfTheDeadline() {
    java.util.concurrent.atomic.AtomicInteger moves = new java.util.concurrent.atomic.AtomicInteger();
    holder.onMoved(moves::incrementAndGet);
    holder.renew(() -> true);
    assertThat(moves.get()).as("acquired").isEqualTo(1);
    round();
    assertThat(moves.get()).as("a renewal sent at the instant of the acquisition moves nothing").isEqualTo(1);
    round();
    assertThat(moves.get()).as("a batched renewal confirmed").isEqualTo(2);
    store.put(Keys.revocation("s1"), Json.write(new Revocation("s1", leaseRecord().incarnation(), "s2")));
    round();
    assertThat(holder.runUntil()).isEqualTo(Long.MIN_VALUE);
    assertThat(moves.get()).as("revoked: the deadline is gone").isEqualTo(3);
  }

  @Test
  void aRevokedLeaseIsNotRenewedThroughTheBatchAndTheHolderLearnsOfItDirectly() {
    holder.renew(() -> true);
    round();
    store.put(Keys.revocation("s1"), Json.write(new Revocation("s1", leaseRecord().incarnation(), "s2")));
    holder.renew(() -> true);
    gather();
    assertThat(holder.valid()).as("not confirmed yet, but not lost either").isTrue();
    clock.advance(Duration.ofMillis(100));
    holder.checkBatched();
    assertThat(holder.valid()).isFalse();
    assertThat(holder.lostReason()).contains("revoked by s2");
  }

  /**
   * Safety under random faults: requests lost, the holder's database link cut, commits late by up to a lease, the
   * holder's replica applying them later than the observer's, the leader's agent not leading. Whenever the observer counts the lease as expired, the holder must not think it valid.
   */
  @Test
  void theHolderNeverOutlivesTheObserversCountUnderRandomFaults() {
    for (long seed = 1; seed <= 40; seed++) {
      var t = new LeaseBatchTest();
      t.randomRun(new Random(seed), seed);
    }
  }

  private void randomRun(Random rnd, long seed) {
    commitAtOnce = false;
    long step = Duration.ofMillis(10).toNanos();
    long nextRound = 0;
    long nextCheck = Long.MAX_VALUE;
    int validSteps = 0;
    for (int i = 0; i < 3000; i++) {
      if (rnd.nextInt(100) == 0) udpUp = !udpUp;
      if (rnd.nextInt(150) == 0) store.setAvailable(storeUp = !storeUp);
      if (rnd.nextInt(200) == 0) leads = !leads;
      if (clock.nanos() >= nextRound) {
        try {
          holder.renew(() -> true);
        } catch (StoreUnavailableException e) {
          // an acquire while cut off
        }
        nextRound += Duration.ofMillis(200).toNanos();
        nextCheck = clock.nanos() + Duration.ofMillis(100).toNanos();
      }
      if (clock.nanos() >= nextCheck) {
        holder.checkBatched();
        nextCheck = Long.MAX_VALUE;
      }
      if (rnd.nextInt(3) == 0) runTimers();
      if (rnd.nextInt(80) == 0) holderReplicaLags = !holderReplicaLags;
      if (!holderLag.isEmpty() && (!holderReplicaLags || rnd.nextInt(30) == 0)) lagged.accept(holderLag.poll());
      // commits land late, in order, sometimes after a whole lease
      if (!uncommitted.isEmpty() && storeUp && rnd.nextInt(rnd.nextBoolean() ? 2 : 40) == 0) uncommitted.poll().run();
      if (observer.expired("s1")) {
        assertThat(holder.valid()).as("seed %d step %d: the observer counts the lease expired while the holder runs apps", seed, i).isFalse();
      }
      if (holder.valid()) validSteps++;
      clock.advance(Duration.ofNanos(step));
    }
    assertThat(validSteps).as("seed %d: the lease was held most of the time", seed).isGreaterThan(300);
  }

}
