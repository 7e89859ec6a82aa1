package dev.understudy.api;

import dev.understudy.agent.Agent;
import dev.understudy.model.Event;
import dev.understudy.model.Keys;
import dev.understudy.model.Maintenance;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.TxnResult;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Taking things out of the agents' hands: cluster maintenance mode, draining a server, leaving an app unmanaged. All
 * live in one database record ({@link Maintenance}), changed by compare-and-set with an audit event.
 */
final class MaintenanceRoutes {
  private final Agent agent;
  private final ApiServer api;
  private final ApiViews views;

  MaintenanceRoutes(Agent agent, ApiServer api, ApiViews views) {
    this.agent = agent;
    this.api = api;
    this.views = views;
  }

  void routes(Javalin http) {
    http.get("/api/v1/maintenance", ctx -> ctx.json(current().orElse(Maintenance.NONE)));
    http.post("/api/v1/maintenance/on", ctx -> change(ctx, m -> m.withCluster(true), "MAINTENANCE_ON", null,
        "cluster maintenance on: agents observe and report, and start, stop and move nothing"));
    http.post("/api/v1/maintenance/off", ctx -> change(ctx, m -> m.withCluster(false), "MAINTENANCE_OFF", null,
        "cluster maintenance off: the agents act again"));
    http.post("/api/v1/servers/{id}/drain", ctx -> {
      String id = server(ctx);
      change(ctx, m -> m.withDrained(id, true), "SERVER_DRAINED", null,
          id + " drained: its apps move away one at a time, nothing new goes there");
    });
    http.post("/api/v1/servers/{id}/resume", ctx -> {
      String id = server(ctx);
      change(ctx, m -> m.withDrained(id, false), "SERVER_RESUMED", null, id + " resumed: it may host apps again");
    });
    http.post("/api/v1/apps/{tag}/unmanage", ctx -> {
      String tag = views.app(ctx.pathParam("tag")).tag();
      change(ctx, m -> m.withUnmanaged(tag, true), "APP_UNMANAGED", tag,
          tag + " unmanaged: the agents neither start, stop nor move it");
    });
    http.post("/api/v1/apps/{tag}/manage", ctx -> {
      String tag = views.app(ctx.pathParam("tag")).tag();
      change(ctx, m -> m.withUnmanaged(tag, false), "APP_MANAGED", tag, tag + " managed again by the agents");
    });
  }

  private String server(Context ctx) {
    String id = ctx.pathParam("id");
    if (!views.serverIds().contains(id)) throw new ApiError(404, "unknown server " + id + "; the cluster has " + views.serverIds());
    return id;
  }

  private Optional<Entry> entry() { return agent.store().get(Keys.MAINTENANCE); }

  private Optional<Maintenance> current() { return entry().map(e -> Json.read(e.value(), Maintenance.class)); }

  /** Read, change, write if unchanged meanwhile (a few tries): answers the record as written. */
  private void change(Context ctx, UnaryOperator<Maintenance> how, String kind, String tag, String message) {
    for (int attempt = 1; ; attempt++) {
      Optional<Entry> e = entry();
      Maintenance cur = e.map(x -> Json.read(x.value(), Maintenance.class)).orElse(Maintenance.NONE);
      Maintenance next = how.apply(cur);
      if (next.equals(cur)) {
        ctx.json(Map.of("maintenance", cur, "changed", false));
        return;
      }
      Event ev = api.audit(ctx, kind, tag, message);
      TxnResult r = agent.store().txn(List.of(
          e.isPresent() ? Op.put(Keys.MAINTENANCE, Json.write(next), e.get().version()) : Op.create(Keys.MAINTENANCE, Json.write(next)),
          ApiServer.eventOp(ev)));
      if (r.ok()) {
        agent.wake();
        ctx.json(Map.of("maintenance", next, "changed", true));
        return;
      }
      if (attempt >= 5) throw new ApiError(409, "the maintenance record keeps changing; retry");
    }
  }
}
