package dev.understudy.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.understudy.agent.Agent;
import dev.understudy.model.App;
import dev.understudy.model.AppValidator;
import dev.understudy.model.Event;
import dev.understudy.model.InvalidAppException;
import dev.understudy.model.Keys;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.TxnResult;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The language-neutral HTTP contract of cluster-aware apps (README, "Client API"), served by the local agent under
 * /api/v1/client/{tag}. Authenticated with the instance's own token (UNDERSTUDY_APP_TOKEN, given by the agent that
 * started it) or the cluster token.
 */
final class ClientApi {
  static final long MAX_WAIT_MS = 60_000;
  private final ParkedPolls parked = new ParkedPolls();

  private final Agent agent;
  private final ApiServer api;
  private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "client-api-poll");
    t.setDaemon(true);
    return t;
  });

  ClientApi(Agent agent, ApiServer api) {
    this.agent = agent;
    this.api = api;
  }

  void routes(Javalin http) {
    http.before("/api/v1/client/*", this::authorize);
    http.post("/api/v1/client/register", this::register);
    http.get("/api/v1/client/{tag}/host", this::host);
    http.put("/api/v1/client/{tag}/marker", this::saveMarker);
    http.get("/api/v1/client/{tag}/marker", this::loadMarker);
    http.get("/api/v1/client/{tag}/unload", this::unload);
    http.get("/api/v1/client/{tag}/attributes", ctx -> ctx.json(current(ctx).attributes()));
    http.patch("/api/v1/client/{tag}/attributes", this::patchAttributes);
    http.put("/api/v1/client/{tag}/resources", this::putResources);
  }

  private void authorize(Context ctx) {
    String h = Optional.ofNullable(ctx.header("Authorization")).orElse("");
    String given = h.startsWith("Bearer ") ? h.substring(7) : "";
    String cluster = agent.config().cluster().token();
    if (cluster != null && !given.isEmpty()
        && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), cluster.getBytes(StandardCharsets.UTF_8))) {
      return;
    }
    // before-handlers see no path parameters: the tag is the segment after /api/v1/client/
    String rest = ctx.path().substring("/api/v1/client/".length());
    String tag = rest.equals("register") ? bodyTag(ctx) : rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : null;
    if (tag != null && agent.supervisor().credentials().tokenValid(tag, given)) return;
    if (given.isEmpty()) throw new ApiError(401, "send the instance token (UNDERSTUDY_APP_TOKEN) or the cluster token as 'Authorization: Bearer ...'");
    throw new ApiError(403, "this token is not the current instance's on " + agent.id() + (tag == null ? "" : " for " + tag));
  }

  private static String bodyTag(Context ctx) {
    try {
      var n = Json.MAPPER.readTree(ctx.body()).get("tag");
      return n == null ? null : n.asText();
    } catch (JsonProcessingException | RuntimeException e) {
      return null;
    }
  }

  private App current(Context ctx) {
    String tag = ctx.pathParam("tag");
    if (!AppValidator.TAG.matcher(tag).matches()) throw new ApiError(400, "bad tag");
    Entry e = agent.store().get(Keys.app(tag)).orElseThrow(() -> new ApiError(404, "no app " + tag));
    return Json.read(e.value(), App.class).withVersion(e.version());
  }

  /** FIG. 6: create the object from what the program carries, or verify it matches. */
  private void register(Context ctx) {
    AppSpec spec;
    try {
      spec = Json.MAPPER.readValue(ctx.body(), AppSpec.class);
    } catch (JsonProcessingException e) {
      throw new ApiError(400, "invalid registration: " + e.getOriginalMessage());
    }
    if (spec == null) throw new ApiError(400, "a registration is a JSON app definition");
    if (spec.tag() == null) throw new ApiError(400, "tag is required");
    Optional<Entry> existing = agent.store().get(Keys.app(spec.tag()));
    if (existing.isEmpty()) {
      App a = api.appFromSpec(spec);
      Event ev = new Event(agent.id() + "-reg-" + System.nanoTime(), System.currentTimeMillis(), "APP_REGISTERED", agent.id(),
          a.tag(), a.tag() + " registered itself (primary " + a.primary() + ", backups " + a.backups() + ")", Map.of());
      TxnResult r = api.create(a, Op.put(Keys.event(ev.timeMillis(), ev.id()), Json.write(ev)));
      if (r.ok()) {
        ctx.status(201).json(Map.of("registered", true, "tag", a.tag()));
        return;
      }
      existing = agent.store().get(Keys.app(spec.tag()));
      if (existing.isEmpty()) throw new ApiError(409, api.exists(spec.tag()));
    }
    App cur = Json.read(existing.orElseThrow().value(), App.class);
    // an instance being removed must not re-create, or keep, its object (it is stopped, then the object goes)
    if (cur.beingRemoved()) throw new ApiError(409, api.exists(cur.tag()));
    List<String> diffs = new ArrayList<>();
    if (spec.primary() != null && !spec.primary().equals(cur.primary())) diffs.add("primary is " + cur.primary());
    if (spec.backups() != null && !spec.backups().equals(cur.backups())) diffs.add("backups are " + cur.backups());
    if (spec.type() != null && spec.type() != cur.type()) diffs.add("type is " + cur.type());
    if (spec.resources() != null && !spec.resources().equals(cur.resources())) diffs.add("resources are " + cur.resources());
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("registered", false);
    body.put("tag", cur.tag());
    body.put("matches", diffs.isEmpty());
    body.put("differences", diffs);
    ctx.json(body);
  }

  /**
   * FIG. 3D: wait while this server is not the host; answers the epoch to use once it is. Only the instance this agent
   * started, under the fence, is ever told it hosts the app: a copy started by hand with the cluster token would run
   * beside it, unguarded. A warm standby is told once it is promoted (its managed resources acquired).
   */
  private void host(Context ctx) {
    long wait = Math.min(MAX_WAIT_MS, longParam(ctx, "waitMs", 0));
    String tag = ctx.pathParam("tag");
    current(ctx);
    String token = bearer(ctx);
    Supplier<Optional<App>> check = () -> agent.store().localGet(Keys.app(tag))
        .map(e -> Json.read(e.value(), App.class))
        .filter(a -> agent.id().equals(a.host()) && agent.supervisor().credentials().hostsInstance(tag, token));
    if (wait > 0) parked.park(tag);
    ctx.future(() -> until(check, wait).whenComplete((r, e) -> {
      if (wait > 0) parked.release(tag);
    }).thenApply(found -> {
      App a = found.orElseGet(() -> current(ctx));
      boolean hosts = found.isPresent();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("host", hosts);
      m.put("server", a.hasHost() ? a.host() : null);
      m.put("epoch", a.epoch());
      if (!hosts && agent.id().equals(a.host()) && !agent.supervisor().credentials().tokenValid(tag, token)) {
        m.put("reason", "only the instance " + agent.id() + " started hosts " + tag
            + " (it authenticates with its UNDERSTUDY_APP_TOKEN); a copy started by hand would run unguarded");
      }
      ctx.json(m);
      return m;
    }));
  }

  private static String bearer(Context ctx) {
    String h = Optional.ofNullable(ctx.header("Authorization")).orElse("");
    return h.startsWith("Bearer ") ? h.substring(7) : "";
  }


  private <T> CompletableFuture<Optional<T>> until(Supplier<Optional<T>> check, long waitMs) {
    CompletableFuture<Optional<T>> f = new CompletableFuture<>();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
    Runnable[] tick = new Runnable[1];
    tick[0] = () -> {
      try {
        Optional<T> r = check.get();
        if (r.isPresent() || System.nanoTime() >= deadline) f.complete(r);
        else poller.schedule(tick[0], 20, TimeUnit.MILLISECONDS);
      } catch (RuntimeException e) {
        f.completeExceptionally(e);
      }
    };
    tick[0].run();
    return f;
  }

  /** A checkpoint as stored beside its app object. */
  record Marker(long epoch, String data, long savedMillis) {}

  /**
   * Claims 23, 24: a checkpoint, accepted only from the current host at the current epoch (a fenced instance cannot
   * overwrite its successor's). Conditional on the app object's version, so a host change between the check and the
   * write makes it fail instead of landing.
   */
  private void saveMarker(Context ctx) {
    long epoch = longParam(ctx, "epoch", -1);
    if (epoch < 0) throw new ApiError(400, "epoch is required: the UNDERSTUDY_EPOCH (or awaitHost's) of the writing instance");
    byte[] data = ctx.bodyAsBytes();
    if (data.length > AppValidator.MAX_MARKER_BYTES) throw new ApiError(413, "a marker is at most " + AppValidator.MAX_MARKER_BYTES + " bytes");
    for (int attempt = 0; attempt < 5; attempt++) {
      App cur = current(ctx);
      if (cur.epoch() != epoch || !agent.id().equals(cur.host())) {
        throw new ApiError(409, "stale epoch " + epoch + ": " + cur.tag() + " is at epoch " + cur.epoch() + " on "
            + (cur.hasHost() ? cur.host() : "no server") + "; this instance must stop");
      }
      Marker m = new Marker(epoch, Base64.getEncoder().encodeToString(data), System.currentTimeMillis());
      TxnResult r = agent.store().txn(List.of(Op.check(Keys.app(cur.tag()), cur.version()),
          Op.put(Keys.marker(cur.tag()), Json.write(m))));
      if (r.ok()) {
        ctx.json(Map.of("saved", data.length, "epoch", epoch, "version", r.version()));
        return;
      }
    }
    throw new ApiError(409, "the app kept changing; retry");
  }

  private void loadMarker(Context ctx) {
    App a = current(ctx);
    Optional<Entry> e = agent.store().get(Keys.marker(a.tag()));
    if (e.isEmpty()) {
      ctx.status(204);
      return;
    }
    Marker m = Json.read(e.get().value(), Marker.class);
    ctx.header("X-Understudy-Marker-Epoch", String.valueOf(m.epoch()));
    ctx.contentType("application/octet-stream");
    ctx.result(Base64.getDecoder().decode(m.data()));
  }

  /** FIG. 3D, claim 48: long-poll until the agent asks this instance to unload. */
  private void unload(Context ctx) {
    long wait = Math.min(MAX_WAIT_MS, longParam(ctx, "waitMs", 0));
    String tag = ctx.pathParam("tag");
    var req = agent.supervisor().credentials().unloadRequest(tag);
    if (req.isEmpty()) {
      ctx.status(200).result("unload"); // no instance here: whoever asks should not run
      return;
    }
    parked.park(tag);
    ctx.future(() -> req.get().orTimeout(wait, TimeUnit.MILLISECONDS).handle((v, err) -> {
      parked.release(tag);
      if (err == null) ctx.status(200).result("unload");
      else ctx.status(204);
      return null;
    }));
  }

  private void patchAttributes(Context ctx) {
    Map<String, String> patch;
    try {
      patch = Json.MAPPER.readValue(ctx.body(), Json.MAPPER.getTypeFactory().constructMapType(HashMap.class, String.class, String.class));
    } catch (JsonProcessingException e) {
      throw new ApiError(400, "attributes must be a JSON object of strings: " + e.getOriginalMessage());
    }
    if (patch == null) throw new ApiError(400, "attributes must be a JSON object of strings");
    App cur = current(ctx);
    Map<String, String> attrs = new HashMap<>(cur.attributes());
    patch.forEach((k, v) -> {
      if (v == null) attrs.remove(k);
      else attrs.put(k, v);
    });
    App next = cur.withAttributes(attrs);
    replace(cur, next);
    ctx.json(next.attributes());
  }

  private void putResources(Context ctx) {
    List<String> res;
    try {
      res = Json.MAPPER.readValue(ctx.body(), Json.MAPPER.getTypeFactory().constructCollectionType(List.class, String.class));
    } catch (JsonProcessingException e) {
      throw new ApiError(400, "resources must be a JSON list of strings: " + e.getOriginalMessage());
    }
    if (res == null) throw new ApiError(400, "resources must be a JSON list of strings");
    App cur = current(ctx);
    App next = new App(cur.tag(), cur.type(), cur.command(), cur.host(), cur.primary(), cur.backups(), res, cur.managed(),
        cur.autoFailback(), cur.service(), cur.epoch(), cur.state(), cur.stateReason(), cur.target(), cur.displaced(),
        cur.attributes(), cur.resets(), cur.version());
    replace(cur, next);
    ctx.json(Map.of("resources", res));
  }

  /** Validates and writes {@code next} in place of {@code cur}, conditional on the version it was read at. */
  private void replace(App cur, App next) {
    try {
      AppValidator.validate(next, null);
    } catch (InvalidAppException e) {
      throw new ApiError(400, e.getMessage());
    }
    TxnResult r = agent.store().txn(List.of(Op.put(Keys.app(cur.tag()), Json.write(next.withVersion(0)), cur.version())));
    if (!r.ok()) throw new ApiError(409, "the app changed meanwhile; retry", r.actualVersion());
  }

  private static long longParam(Context ctx, String name, long dflt) {
    String v = ctx.queryParam(name);
    if (v == null) return dflt;
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new ApiError(400, name + " must be a number");
    }
  }
}
