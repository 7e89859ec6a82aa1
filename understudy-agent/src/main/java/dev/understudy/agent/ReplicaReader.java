package dev.understudy.agent;

import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.model.App;
import dev.understudy.model.Keys;
import dev.understudy.model.ServerRecord;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import dev.understudy.store.Store;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Reads the local replica as the decision rules see it: apps, server records and what each server published. */
final class ReplicaReader {
  private final Store store;
  /** Apps as last parsed, reused while their version is unchanged: parsing 1,000 apps each round was most of a mass failover's CPU. */
  private final Map<String, App> parsedApps = new ConcurrentHashMap<>();

  ReplicaReader(Store store) { this.store = store; }

  ClusterSnapshot snapshot() {
    Map<String, App> apps = new LinkedHashMap<>();
    for (Entry e : store.localList(Keys.APPS)) {
      App cached = parsedApps.get(e.key());
      App a = cached != null && cached.version() == e.version() ? cached : Json.read(e.value(), App.class).withVersion(e.version());
      if (a != cached) parsedApps.put(e.key(), a);
      apps.put(a.tag(), a);
    }
    if (parsedApps.size() > apps.size()) parsedApps.keySet().removeIf(k -> !apps.containsKey(k.substring(Keys.APPS.length())));
    Map<String, ServerRecord> servers = new HashMap<>();
    for (Entry e : store.localList(Keys.SERVERS)) {
      ServerRecord r = Json.read(e.value(), ServerRecord.class);
      servers.put(r.id(), r);
    }
    Map<String, Map<String, List<String>>> readiness = new HashMap<>();
    for (Entry e : store.localList(Keys.READINESS)) {
      @SuppressWarnings("unchecked")
      Map<String, List<String>> m = Json.read(e.value(), Map.class);
      readiness.put(e.key().substring(Keys.READINESS.length()), m);
    }
    dev.understudy.model.Maintenance maintenance = store.localGet(Keys.MAINTENANCE)
        .map(e -> Json.read(e.value(), dev.understudy.model.Maintenance.class)).orElse(dev.understudy.model.Maintenance.NONE);
    return new ClusterSnapshot(apps, servers, readiness, maintenance);
  }

  /**
   * Every server of the cluster, in membership order: the configuration file's peers, then those added by an operator;
   * minus those removed.
   */
  List<AgentConfig.Peer> members(AgentConfig config) {
    Map<String, AgentConfig.Peer> out = new LinkedHashMap<>();
    for (AgentConfig.Peer p : config.peers()) {
      out.put(p.id(), new AgentConfig.Peer(p.id(), p.address(), config.apiPort(p), config.raftPort(p), config.heartbeatPort(p)));
    }
    List<dev.understudy.model.Member> added = new ArrayList<>();
    for (Entry e : store.localList(Keys.MEMBERS)) added.add(Json.read(e.value(), dev.understudy.model.Member.class));
    added.sort(java.util.Comparator.comparingInt(dev.understudy.model.Member::order));
    for (var m : added) {
      if (m.removed()) out.remove(m.id());
      else out.put(m.id(), new AgentConfig.Peer(m.id(), m.address(), m.apiPort(), m.raftPort(), m.heartbeatPort()));
    }
    return List.copyOf(out.values());
  }
}
