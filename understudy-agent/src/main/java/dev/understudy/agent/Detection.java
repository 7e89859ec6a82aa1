package dev.understudy.agent;

import dev.understudy.core.Input;
import dev.understudy.decide.DiskState;
import dev.understudy.detect.DeadlineRound;
import dev.understudy.detect.DiskPulse;
import dev.understudy.model.Keys;
import dev.understudy.model.ServerRecord;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The detection round's I/O: it reads each peer's evidence (heartbeat acks, disk slots, the lease as this replica
 * observes it, the peer's published uplink) and posts it to the loop when any of it changed; the verdicts themselves
 * are the core's. Rounds come once a heartbeat interval; a deadline between two (a peer's acks running out, a LAN-lost
 * peer's lease running out) gets a round of its own at that instant ({@link DeadlineRound}).
 */
final class Detection {
  private static final Logger log = LoggerFactory.getLogger(Detection.class);

  private final Agent agent;
  private final CoreLoop loop;
  private final long diskTimeoutNanos;
  private DeadlineRound deadlineRound;
  /** Each peer's evidence as last posted: a round whose evidence is unchanged posts nothing (and wakes nothing). */
  private Map<String, Input.Seen> lastPosted = Map.of();
  private final Map<String, UplinkSeen> uplinkSeen = new ConcurrentHashMap<>();

  private record UplinkSeen(long version, boolean ok) {}

  Detection(Agent agent, CoreLoop loop, long diskTimeoutNanos) {
    this.agent = agent;
    this.loop = loop;
    this.diskTimeoutNanos = diskTimeoutNanos;
  }

  void start(ScheduledExecutorService timers) {
    long every = everyMillis();
    deadlineRound = new DeadlineRound(agent.ticker(), (task, nanos) -> timers.schedule(task, nanos, TimeUnit.NANOSECONDS),
        TimeUnit.MILLISECONDS.toNanos(every), this::round);
    timers.scheduleWithFixedDelay(this::round, every, every, TimeUnit.MILLISECONDS);
  }

  private long everyMillis() { return Math.max(10, agent.timing().heartbeatInterval().toMillis()); }

  /** A deadline's round and the periodic one can fire together on two timer threads: one at a time. */
  private synchronized void round() {
    try {
      long now = agent.nowNanos();
      DiskPulse disk = agent.disk();
      agent.diskIo().run(() -> {
        if (agent.leaseKeeper().valid()) disk.beat(DiskPulse.State.RUNNING);
        disk.readAll();
      });
      boolean current = agent.replicaCurrent();
      long heartbeatTimeout = agent.timing().heartbeatTimeout().toNanos();
      long nextExpiry = Long.MAX_VALUE;
      var leases = agent.leases();
      Map<String, Input.Seen> seen = new HashMap<>();
      List<Input.Seen> list = new ArrayList<>();
      for (var p : agent.members()) {
        String id = p.id();
        if (id.equals(agent.id())) continue;
        Long ack = agent.heartbeat().lastAckNanos(id);
        boolean lanOk = ack != null && now - ack <= heartbeatTimeout;
        nextExpiry = Math.min(nextExpiry, DeadlineRound.nanosUntilChange(now, ack, heartbeatTimeout,
            lanOk ? Long.MAX_VALUE : leases.nanosUntilExpired(id)));
        DiskState ds = disk == null ? DiskState.NOT_CONFIGURED : disk.state(id, diskTimeoutNanos);
        // a replica still catching up has not seen the peer's recent renewals: its "expired" means nothing yet
        boolean expired = leases.expired(id) && current;
        Input.Seen s = new Input.Seen(id, lanOk, ack, ds, expired, uplinkOk(id), current && leases.version(id) > 0);
        seen.put(id, s);
        list.add(s);
      }
      if (!sameEvidence(seen, lastPosted)) {
        lastPosted = seen;
        loop.post(new Input.Observed(now, System.currentTimeMillis(), list));
      }
      deadlineRound.in(nextExpiry);
    } catch (RuntimeException e) {
      log.warn("detection round failed: {}", e.toString());
    }
  }

  /** The same evidence, ignoring when the last ack came (it moves every heartbeat and decides nothing by itself). */
  private static boolean sameEvidence(Map<String, Input.Seen> a, Map<String, Input.Seen> b) {
    if (!a.keySet().equals(b.keySet())) return false;
    for (var e : a.entrySet()) {
      Input.Seen x = e.getValue();
      Input.Seen y = b.get(e.getKey());
      if (x.lanOk() != y.lanOk() || x.disk() != y.disk() || x.leaseExpired() != y.leaseExpired()
          || x.uplinkOk() != y.uplinkOk() || x.leaseKnown() != y.leaseKnown()) {
        return false;
      }
    }
    return true;
  }

  /** The peer's published uplink state, parsed again only when its record changed (this runs 10 times a second). */
  private boolean uplinkOk(String id) {
    Entry e = agent.store().localGet(Keys.server(id)).orElse(null);
    if (e == null) return true;
    UplinkSeen seen = uplinkSeen.get(id);
    if (seen != null && seen.version() == e.version()) return seen.ok();
    boolean ok = Json.read(e.value(), ServerRecord.class).uplinkOk();
    uplinkSeen.put(id, new UplinkSeen(e.version(), ok));
    return ok;
  }
}
