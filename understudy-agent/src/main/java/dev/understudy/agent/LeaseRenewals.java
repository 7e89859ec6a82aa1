package dev.understudy.agent;

import dev.understudy.detect.DiskPulse;
import dev.understudy.detect.HeartbeatPacket;
import dev.understudy.detect.HeartbeatService;
import dev.understudy.detect.LeaseBatcher;
import dev.understudy.detect.LeaseKeeper;
import dev.understudy.model.Event;
import dev.understudy.store.RaftStore;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rhythm of this server's lease renewals. Rounds fall on multiples of leaseRenew on the wall clock, the same
 * instants on every server (NTP keeps a LAN's clocks within a millisecond or so), so the Raft leader's agent finds every
 * server's request of a round in its gather window and writes them in one entry: one replication round and one fsync
 * per round instead of one per server. Half a round later, a request not yet confirmed is written directly. Only the
 * rhythm uses the wall clock; the lease itself is counted on the monotonic clock. A wall-clock step shortens one gap,
 * never lengthens it.
 */
final class LeaseRenewals {
  private static final Logger log = LoggerFactory.getLogger(LeaseRenewals.class);

  private final String self;
  private final RaftStore store;
  private final LeaseKeeper keeper;
  private final LeaseBatcher batcher;
  private final HeartbeatService heartbeat;
  private final ScheduledExecutorService timers;
  private final Duration period;
  private final DiskIo diskIo;
  private final DiskPulse disk;
  private final BooleanSupplier idle;
  private final Consumer<Event> emit;
  private final Runnable changed;
  private volatile boolean running = true;

  LeaseRenewals(String self, RaftStore store, LeaseKeeper keeper, LeaseBatcher batcher, HeartbeatService heartbeat,
                ScheduledExecutorService timers, Duration period, DiskIo diskIo, DiskPulse disk, BooleanSupplier idle,
                Consumer<Event> emit, Runnable changed) {
    this.self = self;
    this.store = store;
    this.keeper = keeper;
    this.batcher = batcher;
    this.heartbeat = heartbeat;
    this.timers = timers;
    this.period = period;
    this.diskIo = diskIo;
    this.disk = disk;
    this.idle = idle;
    this.emit = emit;
    this.changed = changed;
    keeper.batchThrough(this::send);
  }

  void start() { schedule(0); }

  void stop() { running = false; }

  private void schedule(long delayMillis) {
    if (!running) return;
    try {
      timers.schedule(() -> {
        renew();
        long p = period.toMillis();
        timers.schedule(this::checkBatched, p / 2, TimeUnit.MILLISECONDS);
        schedule(p - Math.floorMod(System.currentTimeMillis(), p));
      }, delayMillis, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closing) {
      // the agent is closing
    }
  }

  /** A renewal request to the Raft leader's agent (this one's own batcher when it leads); false: none is known. */
  private boolean send(long leaseIncarnation, long seq, long revocationVersion) {
    String leader = store.leaderId().orElse(null);
    if (leader == null) return false;
    var r = new HeartbeatPacket.Renewal(leaseIncarnation, seq, revocationVersion);
    if (!leader.equals(self)) return heartbeat.sendRenewal(leader, r);
    batcher.offer(self, r);
    return true;
  }

  private void checkBatched() {
    if (!running) return;
    try {
      keeper.checkBatched();
    } catch (RuntimeException e) {
      log.warn("lease round failed: {}", e.toString());
    }
    noteChange();
  }

  private void renew() {
    if (!running) return; // a round already scheduled when the agent began to stop
    try {
      keeper.renew(idle);
      boolean now = keeper.valid();
      DiskPulse.State state = now ? DiskPulse.State.RUNNING : DiskPulse.State.FENCED;
      diskIo.run(() -> disk.beat(state));
    } catch (RuntimeException e) {
      log.warn("lease round failed: {}", e.toString());
    }
    noteChange();
  }

  /** Whether the lease was held at the last look: a lease mostly lapses between rounds, by time, not inside one. */
  private boolean wasValid;

  /** Tells of the lease lapsing or coming back, whenever it happened since the last look (every half round). */
  private synchronized void noteChange() {
    boolean now = keeper.valid();
    if (now == wasValid) return;
    wasValid = now;
    log.info("{} lease {}", self, now ? "held" : "LOST: " + keeper.lostReason());
    if (!now) {
      emit.accept(new Event(null, 0, "SERVER_FENCED", self, null, self + " cannot renew its lease ("
          + keeper.lostReason() + "): its apps are being stopped", Map.of()));
    }
    changed.run();
  }
}
