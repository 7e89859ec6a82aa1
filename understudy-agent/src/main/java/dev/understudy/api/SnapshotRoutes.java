package dev.understudy.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.understudy.agent.Agent;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.AppValidator;
import dev.understudy.model.InvalidAppException;
import dev.understudy.model.Keys;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.TxnResult;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A backup of the cluster database, and seeding a new cluster from one. The snapshot holds what operators and apps
 * put there (apps, markers, tombstones, the maintenance record), read at one point of the log; not leases, server
 * records or events, which the new cluster's agents make their own. It holds environment values, so only the cluster
 * token may take it.
 */
final class SnapshotRoutes {
  static final String FORMAT = "understudy-snapshot/1";
  private static final List<String> KEPT = dev.understudy.agent.ReplicaExport.KEPT;

  record Snapshot(String format, long takenMillis, String cluster, Map<String, String> entries) {}

  private final Agent agent;
  private final ApiServer api;
  private final ApiViews views;

  SnapshotRoutes(Agent agent, ApiServer api, ApiViews views) {
    this.agent = agent;
    this.api = api;
    this.views = views;
  }

  void routes(Javalin http) {
    http.get("/api/v1/snapshot", this::save);
    http.post("/api/v1/snapshot/restore", this::restore);
  }

  private void save(Context ctx) {
    if (!EnvValues.isOperator(ctx)) throw new ApiError(403, "a snapshot holds apps' environment values: take it with the cluster token");
    Map<String, String> entries = new TreeMap<>();
    for (Entry e : agent.store().list("")) { // one linearizable read of the whole database: a consistent copy
      if (KEPT.stream().anyMatch(p -> e.key().startsWith(p))) entries.put(e.key(), e.value());
    }
    ctx.json(new Snapshot(FORMAT, System.currentTimeMillis(), agent.config().clusterName(), entries));
  }

  /**
   * Seeds this cluster, which must hold no app yet, with a snapshot's apps, markers and tombstones in one transaction.
   * An app that had a host starts again there if that server is a member here (else the first qualified server places
   * it), at the next epoch: a fencing token never repeats, even across a restore.
   */
  private void restore(Context ctx) {
    Snapshot s;
    try {
      s = Json.MAPPER.readValue(ctx.body(), Snapshot.class);
    } catch (JsonProcessingException e) {
      throw new ApiError(400, "not a snapshot: " + e.getOriginalMessage());
    }
    if (s == null || !FORMAT.equals(s.format()) || s.entries() == null) {
      throw new ApiError(400, "not a snapshot of this format (" + FORMAT + "): got " + (s == null ? "nothing" : s.format()));
    }
    if (!agent.store().list(Keys.APPS).isEmpty()) {
      throw new ApiError(409, "this cluster has apps already: a snapshot seeds a new cluster (remove them, or restore elsewhere)");
    }
    Set<String> members = views.serverIds();
    List<Op> ops = new ArrayList<>();
    int apps = 0;
    for (var e : s.entries().entrySet()) {
      String key = e.getKey();
      if (KEPT.stream().noneMatch(key::startsWith)) throw new ApiError(400, "a snapshot holds no " + key);
      String value = e.getValue();
      if (key.startsWith(Keys.APPS)) {
        App a = restored(Json.read(value, App.class), members);
        try {
          AppValidator.validate(a, members);
        } catch (InvalidAppException ex) {
          throw new ApiError(400, "app " + a.tag() + " cannot run in this cluster: " + ex.getMessage() + "; nothing was restored");
        }
        value = Json.write(a);
        apps++;
      }
      ops.add(Op.create(key, value));
    }
    ops.add(ApiServer.eventOp(api.audit(ctx, "SNAPSHOT_RESTORED", null,
        "restored " + apps + " apps from a snapshot of cluster " + s.cluster() + " taken at " + java.time.Instant.ofEpochMilli(s.takenMillis()))));
    TxnResult r = agent.store().txn(ops);
    if (!r.ok()) throw new ApiError(409, "the database changed meanwhile (an app was added?): nothing was restored; retry");
    agent.wake();
    ctx.json(Map.of("restored", apps, "entries", ops.size() - 1));
  }

  private static App restored(App a, Set<String> members) {
    App clean = a.withVersion(0).withTarget(null);
    if (!a.hasHost()) return clean;
    String why = "restored from a snapshot";
    if (!members.contains(a.host())) return clean.movedTo(null, AppState.UNPLACED, why + "; its host " + a.host() + " is not a member here");
    return a.displaced() ? clean.displacedTo(a.host(), AppState.STARTING, why) : clean.movedTo(a.host(), AppState.STARTING, why);
  }
}
