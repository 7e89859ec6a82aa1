package dev.understudy.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.detect.Ticker;
import dev.understudy.model.Event;
import dev.understudy.store.RaftStore;
import dev.understudy.store.ReplicaWatch;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches this agent's database replica and repairs the two ways Ratis (3.3) was seen to leave a follower stuck for
 * good (docs/PROTOCOL.md, "A follower stuck on a divergent first entry"). The decisions are {@link ReplicaWatch}'s
 * (pure, tested); this class gathers the evidence (its own replica, the leader's status over the peers' HTTP API) and
 * acts. Runs on the housekeeping timer.
 */
final class ReplicaDoctor {
  private static final Logger log = LoggerFactory.getLogger(ReplicaDoctor.class);
  /** A replica that has not moved for 10 s while behind is stalled: far beyond any catch-up seen here. */
  private static final long STALL_NANOS = 10_000_000_000L;
  /** Between two repair attempts: a rebuild or an election needs that long to show its effect. */
  private static final long REPAIR_EVERY_NANOS = 10_000_000_000L;

  private final String self;
  private final RaftStore store;
  private final Ticker ticker;
  private final Metrics metrics;
  private final LongSupplier mustApply;
  private final Supplier<List<AgentConfig.Peer>> members;
  private final Function<AgentConfig.Peer, JsonNode> peerCluster;
  private final Consumer<Event> emit;
  private final ReplicaWatch watch = new ReplicaWatch(STALL_NANOS);
  private long lastRepairNanos = Long.MIN_VALUE / 2;

  ReplicaDoctor(String self, RaftStore store, Ticker ticker, Metrics metrics, LongSupplier mustApply,
                Supplier<List<AgentConfig.Peer>> members, Function<AgentConfig.Peer, JsonNode> peerCluster,
                Consumer<Event> emit) {
    this.self = self;
    this.store = store;
    this.ticker = ticker;
    this.metrics = metrics;
    this.mustApply = mustApply;
    this.members = members;
    this.peerCluster = peerCluster;
    this.emit = emit;
  }

  boolean stalled() { return watch.stalled(); }

  /** One look: report a stall when it starts and ends; while it lasts, try a repair every 10 s. */
  void check() {
    long now = ticker.nanos();
    var outcome = watch.observe(store.lastAppliedIndex(), mustApply.getAsLong(), now);
    if (outcome == ReplicaWatch.Outcome.STALLED) {
      var info = store.replicaInfo();
      log.warn("{}'s database replica stopped applying at index {} while this agent's writes commit up to {}: {}", self,
          info.appliedIndex(), mustApply.getAsLong(), info);
      emit.accept(new Event(null, 0, "REPLICA_STALLED", self, null, self + "'s database replica stopped applying at index "
          + info.appliedIndex() + " (its own writes commit up to " + mustApply.getAsLong() + "); it starts no app until"
          + " it catches up", Map.of()));
    } else if (outcome == ReplicaWatch.Outcome.RECOVERED) {
      log.info("{}'s database replica applies again: {}", self, store.replicaInfo());
    }
    if (watch.stalled() && now - lastRepairNanos >= REPAIR_EVERY_NANOS) {
      lastRepairNanos = now;
      repair();
    }
    if (store.diverged() && now - lastRepairNanos >= REPAIR_EVERY_NANOS) {
      lastRepairNanos = now;
      repairDiverged();
    }
  }

  /**
   * This replica applied entries the log later truncated: its state may disagree with its peers' at the same index,
   * and it starts nothing (Agent.replicaCurrent). A follower is rebuilt from the leader; a leader first steps down.
   */
  private void repairDiverged() {
    var local = store.replicaInfo();
    emit.accept(new Event(null, 0, "REPLICA_DIVERGED", self, null, self + "'s database replica applied entries the log"
        + " then truncated; it starts no app and is rebuilt from the leader", Map.of()));
    try {
      if ("LEADER".equals(local.role())) {
        store.askLeaderToStepDown();
        metrics.leaderStepDownAsked();
        return;
      }
      if (store.leaderId().isEmpty()) return; // no leader to copy from yet: the next look tries again
      store.rebuildReplica();
      metrics.replicaRebuilt();
      emit.accept(new Event(null, 0, "REPLICA_REBUILT", self, null, self + "'s database replica diverged (it applied"
          + " entries the log then truncated) and was rebuilt from the leader", Map.of()));
    } catch (IOException | RuntimeException e) {
      log.error("repairing {}'s diverged replica failed: {}", self, e.toString(), e);
    }
  }

  /** Finds the leader by asking the peers, then acts on {@link ReplicaWatch#repair}; nothing when no peer leads. */
  private void repair() {
    var local = store.replicaInfo();
    if ("LEADER".equals(local.role())) return;
    for (var p : members.get()) {
      if (p.id().equals(self)) continue;
      JsonNode cluster = peerCluster.apply(p);
      if (cluster == null || !"LEADER".equals(cluster.path("replica").path("role").asText())) continue;
      long leaderFirst = cluster.path("replica").path("firstTerm").asLong(-1);
      long matchHere = cluster.path("replica").path("followerMatchIndex").path(self).asLong(Long.MIN_VALUE);
      switch (ReplicaWatch.repair(local.lastIndex(), local.firstTerm(), leaderFirst, matchHere)) {
        case ASK_LEADER_TO_STEP_DOWN -> askToStepDown(p.id(), matchHere, local.lastIndex());
        case REBUILD_FROM_LEADER -> rebuild(p.id(), local.firstTerm(), leaderFirst);
        case NONE -> log.warn("{}'s replica is stalled; leader {} has first entry term {} (here {}) and counts index {}"
            + " from here (log ends at {}): no known cause, not repairing it", self, p.id(), leaderFirst,
            local.firstTerm(), matchHere, local.lastIndex());
      }
      return;
    }
  }

  private void askToStepDown(String leader, long matchHere, long lastIndex) {
    log.warn("leader {} counts index {} from {}, whose log ends at {}: it would never send what is missing; asking it"
        + " to step down", leader, matchHere, self, lastIndex);
    try {
      store.askLeaderToStepDown();
      metrics.leaderStepDownAsked();
      emit.accept(new Event(null, 0, "LEADER_STEP_DOWN", self, null, self + " asked database leader " + leader
          + " to step down: it counted index " + matchHere + " from " + self + ", whose log ends at " + lastIndex,
          Map.of()));
    } catch (IOException | RuntimeException e) {
      log.warn("asking {} to step down failed: {}", leader, e.toString());
    }
  }

  private void rebuild(String leader, long firstTerm, long leaderFirst) {
    log.warn("{}'s first log entry (term {}) diverges from leader {}'s (term {}) and Ratis cannot reconcile it:"
        + " rebuilding this replica from the leader (term and vote kept)", self, firstTerm, leader, leaderFirst);
    try {
      store.rebuildReplica();
      metrics.replicaRebuilt();
      emit.accept(new Event(null, 0, "REPLICA_REBUILT", self, null, self + "'s database replica diverged from leader "
          + leader + " at its first entry and was rebuilt from it", Map.of()));
    } catch (IOException | RuntimeException e) {
      log.error("rebuilding {}'s replica failed: {}", self, e.toString(), e);
    }
  }

  /** This replica's Raft state, for /api/v1/cluster. */
  Map<String, Object> status() {
    var info = store.replicaInfo();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("role", info.role());
    m.put("term", info.term());
    m.put("lastIndex", info.lastIndex());
    m.put("commitIndex", info.commitIndex());
    m.put("appliedIndex", info.appliedIndex());
    m.put("ownWriteIndex", mustApply.getAsLong());
    m.put("firstTerm", info.firstTerm());
    m.put("stalled", watch.stalled());
    if (!info.followerMatch().isEmpty()) m.put("followerMatchIndex", info.followerMatch());
    return m;
  }
}
