package dev.understudy.agent;

import dev.understudy.model.Event;
import dev.understudy.model.Formats;
import dev.understudy.model.Keys;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.TxnResult;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's format ({@link Formats}), from housekeeping: this agent says which formats it reads; the Raft leader's
 * agent raises the cluster's format once every member reads a newer one (a rolling upgrade ends so); and an agent
 * whose replica met a format it cannot read stops, naming both versions, instead of running apps from a replica
 * that has stopped applying.
 */
public final class FormatKeeper {
  private static final Logger log = LoggerFactory.getLogger(FormatKeeper.class);

  private final Agent agent;
  private final String build;
  private final Runnable refuse;
  private boolean advertised;

  /** {@code refuse}: stops this agent (its apps first) and exits; called at most once. */
  FormatKeeper(Agent agent, String build, Runnable refuse) {
    this.agent = agent;
    this.build = build;
    this.refuse = refuse;
  }

  /** The formats a member's agent reads: what it said, or format 1 alone for an agent of a release before formats. */
  static int newestReadBy(Optional<Entry> said) {
    if (said.isEmpty()) return 1;
    try {
      return Json.MAPPER.readTree(said.get().value()).path("newest").asInt(1);
    } catch (java.io.IOException | RuntimeException e) {
      return 1;
    }
  }

  /** The format the cluster writes, as this replica has applied it. */
  static int clusterFormat(Optional<Entry> record) { return dev.understudy.store.FormatRecord.format(record.orElse(null)); }

  /**
   * The format the cluster may move up to: the newest every member reads (never above what this build writes), or 0
   * when that is not above the cluster's format now.
   */
  static int raiseTo(int current, List<Integer> newestOfEachMember) {
    int target = Formats.NEWEST;
    for (int n : newestOfEachMember) target = Math.min(target, n);
    return target > current ? target : 0;
  }

  /** For /api/v1/cluster: the format the cluster writes, what this agent reads, and the newest each member reads. */
  public static Map<String, Object> view(Agent agent) {
    var store = agent.store();
    Map<String, Object> members = new java.util.TreeMap<>();
    for (var p : agent.members()) members.put(p.id(), newestReadBy(store.localGet(Keys.formats(p.id()))));
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("cluster", clusterFormat(store.localGet(Keys.CLUSTER_FORMAT)));
    m.put("thisAgentReads", Formats.OLDEST + "-" + Formats.NEWEST);
    m.put("build", Build.VERSION);
    m.put("newestReadByMember", members);
    return m;
  }

  /** True when this agent must stop (and it has been told to): its replica met a format it cannot read. No writes. */
  boolean refused() {
    var store = agent.store();
    int cluster = clusterFormat(store.localGet(Keys.CLUSTER_FORMAT));
    Optional<String> why = store.formatRefusal(build);
    if (why.isEmpty() && cluster > Formats.NEWEST) why = Optional.of(Formats.cannotRead(cluster, build, "its record " + Keys.CLUSTER_FORMAT));
    if (why.isEmpty()) return false;
    log.error("{}; stopping", why.get());
    refuse.run();
    return true;
  }

  /** Heartbeats in the cluster's format; this agent's formats said once a life; on the leader, the raise when due. */
  void keep() {
    var store = agent.store();
    int cluster = clusterFormat(store.localGet(Keys.CLUSTER_FORMAT));
    agent.heartbeat().format(Math.min(cluster, Formats.NEWEST));
    if (!advertised || store.localGet(Keys.formats(agent.id())).isEmpty()) {
      store.put(Keys.formats(agent.id()), Json.write(Formats.ours(build)));
      advertised = true;
    }
    if (store.isLeader()) raise(cluster);
  }

  private void raise(int cluster) {
    var store = agent.store();
    List<Integer> newest = agent.members().stream().map(p -> newestReadBy(store.localGet(Keys.formats(p.id())))).toList();
    int to = raiseTo(cluster, newest);
    if (to == 0) return;
    long version = store.localGet(Keys.CLUSTER_FORMAT).map(Entry::version).orElse(0L);
    TxnResult r = store.txn(List.of(Op.check(Keys.CLUSTER_FORMAT, version),
        Op.put(Keys.CLUSTER_FORMAT, Json.write(new Formats.ClusterFormat(to)))));
    if (!r.ok()) return; // the record or the membership moved: decided again at the next round
    log.info("every member reads format {}: the cluster writes it from now on (was {})", to, cluster);
    agent.emit(new Event(null, 0, "FORMAT_RAISED", agent.id(), null, "every server reads format " + to
        + ": the cluster writes format " + to + " from now on (was " + cluster + ")", Map.of("from", String.valueOf(cluster),
        "to", String.valueOf(to))));
  }
}
