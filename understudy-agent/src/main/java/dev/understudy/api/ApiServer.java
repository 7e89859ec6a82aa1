package dev.understudy.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.understudy.agent.Agent;
import dev.understudy.core.OperatorRules;
import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.decide.Decider;
import dev.understudy.decide.LocalView;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.AppType;
import dev.understudy.model.AppValidator;
import dev.understudy.model.Event;
import dev.understudy.model.InvalidAppException;
import dev.understudy.model.Keys;
import dev.understudy.model.ServerRecord;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.StoreUnavailableException;
import dev.understudy.store.TxnResult;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.json.JavalinJackson;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * REST API under /api/v1 and /healthz. Every agent answers for the whole cluster; writes go through the database
 * by compare-and-set. Writes need the cluster token (bearer), compared in constant time and never logged.
 */
public final class ApiServer implements Agent.Frontend {
  private static final Logger log = LoggerFactory.getLogger(ApiServer.class);
  private final Agent agent;
  private final Javalin http;

  private final ApiViews views;
  private final MembershipRoutes membership;

  private ApiServer(Agent agent, Javalin http) {
    this.agent = agent;
    this.http = http;
    this.views = new ApiViews(agent);
    this.membership = new MembershipRoutes(agent, views, this);
  }

  /** The largest request body accepted (an app object with its attributes fits many times over). */
  static final long MAX_BODY = 1_000_000L;

  public static ApiServer start(Agent agent) {
    Javalin j = Javalin.create(cfg -> {
      cfg.showJavalinBanner = false;
      cfg.http.maxRequestSize = MAX_BODY;
      cfg.jsonMapper(new JavalinJackson(Json.MAPPER, false));
      cfg.useVirtualThreads = false;
      cfg.staticFiles.add(sf -> {
        sf.hostedPath = "/";
        sf.directory = "/console";
        sf.location = io.javalin.http.staticfiles.Location.CLASSPATH;
      });
      if (agent.config().apiTls()) {
        cfg.jetty.addConnector((server, http) -> HttpsConnector.create(server, http, agent.tlsKeys().sslContext(),
            agent.config().address(), agent.config().apiPort()));
      }
    });
    ApiServer s = new ApiServer(agent, j);
    s.routes();
    if (agent.config().apiTls()) j.start(); // its own connector binds address and port
    else j.start(agent.config().address(), agent.config().apiPort());
    return s;
  }

  private void routes() {
    http.before(this::rateLimit);
    http.before(ctx -> RequestGuard.boundedBody(ctx, MAX_BODY));
    http.before("/api/v1/*", this::authorize);
    http.before("/metrics", this::authorize);
    http.after(ctx -> agent.metrics().answered(ctx.statusCode())); // runs after a refusal in a before-handler too
    http.exception(ApiError.class, (e, ctx) -> error(ctx, e.status, e.getMessage(), e.currentVersion));
    http.exception(InvalidAppException.class, (e, ctx) -> error(ctx, 400, e.getMessage(), null));
    http.exception(JsonProcessingException.class, (e, ctx) ->
        error(ctx, 400, "malformed JSON: " + e.getOriginalMessage(), null));
    http.exception(java.io.UncheckedIOException.class, (e, ctx) -> error(ctx, 400, "malformed input: " + e.getCause().getMessage(), null));
    http.exception(StoreUnavailableException.class, (e, ctx) -> error(ctx, 503, e.getMessage()
        + (ctx.method() == io.javalin.http.HandlerType.GET ? "; nothing was changed: retry"
            : "; the outcome of a write is unknown: read it back before retrying"), null));
    http.exception(Exception.class, (e, ctx) -> {
      log.warn("API {} {} failed", ctx.method(), ctx.path(), e);
      error(ctx, 500, "internal error: " + e, null);
    });
    http.error(404, ctx -> {
      if (ctx.result() == null || ctx.result().isEmpty()) error(ctx, 404, "no such endpoint: " + ctx.method() + " " + ctx.path(), null);
    });

    http.get("/healthz", ctx -> ctx.json(views.health()));
    http.get("/api/v1/status", ctx -> ctx.json(EnvValues.forScope(ctx, views.status())));
    http.get("/api/v1/cluster", ctx -> ctx.json(views.cluster()));
    http.get("/api/v1/servers", ctx -> ctx.json(views.status().get("servers")));
    http.get("/api/v1/servers/{id}", ctx -> ctx.json(views.server(ctx.pathParam("id"))));
    http.post("/api/v1/servers", membership::addServer);
    http.delete("/api/v1/servers/{id}", membership::removeServer);
    http.get("/api/v1/apps", ctx -> ctx.json(EnvValues.forScope(ctx, views.status().get("apps"))));
    http.get("/api/v1/apps/{tag}", ctx -> ctx.json(EnvValues.forScope(ctx, views.appView(views.app(ctx.pathParam("tag"))))));
    http.get("/api/v1/apps/{tag}/logs", views::logs);
    http.get("/api/v1/apps/{tag}/timeline", views::timeline);
    http.post("/api/v1/apps", this::createApp);
    http.put("/api/v1/apps/{tag}", ctx -> retrying(ctx, () -> replaceApp(ctx)));
    http.delete("/api/v1/apps/{tag}", this::deleteApp);
    http.patch("/api/v1/apps/{tag}/attributes", ctx -> retrying(ctx, () -> patchAttributes(ctx)));
    http.post("/api/v1/apps/{tag}/unload", ctx -> retrying(ctx, () -> transitionOnce(ctx, "unload")));
    http.post("/api/v1/apps/{tag}/load", ctx -> retrying(ctx, () -> transitionOnce(ctx, "load")));
    http.post("/api/v1/apps/{tag}/move", ctx -> retrying(ctx, () -> transitionOnce(ctx, "move")));
    http.post("/api/v1/apps/{tag}/approve-failback", ctx -> retrying(ctx, () -> transitionOnce(ctx, "approve")));
    http.post("/api/v1/apps/{tag}/reset", ctx -> retrying(ctx, () -> transitionOnce(ctx, "reset")));
    http.get("/api/v1/events", views::events);
    http.sse("/api/v1/events/stream", this::stream);
    http.get("/api/v1/apps/{tag}/why", ctx -> ctx.json(Explain.why(agent, views.app(ctx.pathParam("tag")))));
    http.get("/api/v1/simulate", ctx -> {
      String fail = ctx.queryParam("fail");
      if (fail == null || !views.serverIds().contains(fail)) throw new ApiError(400, "name a server: ?fail=ID, one of " + views.serverIds());
      ctx.json(Explain.simulate(agent, fail));
    });
    http.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4").result(agent.metrics().scrape()));
    http.get("/api/v1/openapi.json", ctx -> ctx.contentType("application/json").result(openApi()));
    new ClientApi(agent, this).routes(http);
    new MaintenanceRoutes(agent, this, views).routes(http);
    new SnapshotRoutes(agent, this, views).routes(http);
    http.post("/api/v1/debug/faults", membership::faults);
    http.post("/api/v1/agent/reload", membership::reload);
  }

  /** Per client address: 200 requests a second, bursts of 400; beyond, 429 (a runaway script cannot starve the agent). */
  private final Map<String, double[]> buckets = new java.util.concurrent.ConcurrentHashMap<>();

  private void rateLimit(Context ctx) {
    if (buckets.size() > 10_000) buckets.clear();
    // an aware app's calls count against its own bucket: the apps of one host share its address
    String path = ctx.path();
    String key = ctx.ip();
    if (path.startsWith("/api/v1/client/") && path.indexOf('/', "/api/v1/client/".length()) > 0) {
      key += " " + path.substring("/api/v1/client/".length(), path.indexOf('/', "/api/v1/client/".length()));
    }
    double[] b = buckets.computeIfAbsent(key, k -> new double[] {400, System.nanoTime()});
    synchronized (b) {
      long now = System.nanoTime();
      b[0] = Math.min(400, b[0] + (now - b[1]) / 1e9 * 200);
      b[1] = now;
      if (b[0] < 1) throw new ApiError(429, "too many requests from " + ctx.ip() + "; slow down");
      b[0] -= 1;
    }
  }

  // ---- auth ----------------------------------------------------------------------------------------------------

  private void authorize(Context ctx) {
    String token = agent.config().cluster().token();
    boolean write = !ctx.method().name().equals("GET") && !ctx.method().name().equals("HEAD")
        && !ctx.method().name().equals("OPTIONS");
    if (ctx.path().startsWith("/api/v1/client/")) return; // ClientApi checks its own
    if (!write && (agent.config().readsOpen() || ctx.path().equals("/api/v1/openapi.json")) && !hasBearer(ctx)) {
      RequestGuard.hostIsThisAgent(ctx, agent.config().address());
      return;
    }
    String h = Optional.ofNullable(ctx.header("Authorization")).orElse("");
    // EventSource cannot send headers: the console passes the token as ?token= on the event stream only
    String given = h.startsWith("Bearer ") ? h.substring(7)
        : ctx.path().equals("/api/v1/events/stream") ? Optional.ofNullable(ctx.queryParam("token")).orElse("") : "";
    if (given.isEmpty()) {
      throw new ApiError(401, (write ? "this request changes the cluster" : "reads are not open on this agent (cluster.openReads)")
          + ": send the cluster token as 'Authorization: Bearer TOKEN'");
    }
    if (MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
      EnvValues.markOperator(ctx);
      return;
    }
    String reader = agent.config().cluster().readToken();
    if (reader != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), reader.getBytes(StandardCharsets.UTF_8))) {
      if (!write) return;
      throw new ApiError(403, "the read-only token (cluster.readToken) cannot change the cluster: send the cluster token");
    }
    throw new ApiError(403, "the token is not this cluster's API token");
  }

  private static boolean hasBearer(Context ctx) {
    String h = ctx.header("Authorization");
    return h != null && h.startsWith("Bearer ");
  }

  private static void error(Context ctx, int status, String message, Long version) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", message);
    body.put("status", status);
    if (version != null) body.put("currentVersion", version);
    ctx.status(status).json(body);
  }

  // ---- writes --------------------------------------------------------------------------------------------------

  App appFromSpec(AppSpec s) { return fromSpec(s); }

  private App fromSpec(AppSpec s) {
    if (s == null) throw new ApiError(400, "a JSON app definition is required");
    App a = App.create(s.tag(), s.type() == null ? AppType.CAPABLE : s.type(), s.command(), s.primary(), s.backups(),
        s.resources(), Boolean.TRUE.equals(s.autoFailback()), s.service(), s.attributes()).withManaged(s.managed());
    validate(a);
    return agent.supervisor().agents().checkDefinition(a); // its resource agents as this server has them
  }

  private void validate(App a) {
    Set<String> hostable = views.hostableServers();
    for (String id : a.servers()) {
      if (id != null && views.serverIds().contains(id) && !hostable.contains(id)) {
        throw new InvalidAppException(id.equals(a.primary()) ? "primary" : "backups", id + " is a witness: it votes but hosts no apps");
      }
    }
    AppValidator.validate(a, views.serverIds());
  }

  private AppSpec spec(Context ctx) {
    try {
      return Json.MAPPER.readValue(ctx.body(), AppSpec.class);
    } catch (JsonProcessingException e) {
      throw new ApiError(400, "invalid app definition: " + e.getOriginalMessage());
    }
  }

  private void createApp(Context ctx) {
    App a = fromSpec(spec(ctx));
    if (dryRun(ctx, agent.store().get(Keys.app(a.tag())).isEmpty() ? a : null, a.tag())) return;
    Event ev = audit(ctx, "APP_ADDED", a.tag(), "added " + a.tag() + " (primary " + a.primary() + ", backups " + a.backups() + ")");
    TxnResult r = create(a, eventOp(withChange(ev, null, a)));
    if (!r.ok()) throw new ApiError(409, exists(a.tag()), r.actualVersion());
    ctx.status(201).json(views.appView(views.app(a.tag())));
  }

  /**
   * {@code ?dryRun=true}: the definition was checked as the write would check it; answers what would be written
   * ({@code next}; null: the tag exists, 409) and writes nothing. {@code understudy app apply} checks a whole file so.
   */
  private boolean dryRun(Context ctx, App next, String tag) {
    if (!"true".equals(ctx.queryParam("dryRun"))) return false;
    if (next == null) throw new ApiError(409, exists(tag));
    ctx.json(Map.of("dryRun", true, "app", Json.MAPPER.valueToTree(next.withVersion(0))));
    return true;
  }

  /**
   * Writes a new app, its epochs continuing those of a removed app of the same tag (its tombstone), so a fencing token
   * never goes backwards: a re-added app at epoch 1 could be fenced out by, or fence out, its predecessor's instances.
   * Conditional on the tombstone read: a remove completing meanwhile makes it refused, never wrong.
   */
  TxnResult create(App a, Op event) {
    Optional<Entry> tomb = agent.store().get(Keys.tombstone(a.tag()));
    long epoch = tomb.map(t -> Json.read(t.value(), dev.understudy.model.Tombstone.class).epoch() + 1).orElse(1L);
    App fresh = a.withEpoch(Math.max(epoch, a.epoch()));
    return agent.store().txn(List.of(Op.create(Keys.app(a.tag()), Json.write(fresh)),
        Op.check(Keys.tombstone(a.tag()), tomb.map(Entry::version).orElse(0L)), event));
  }

  /** Why a create was refused: the tag exists, or its removal has not finished yet. */
  String exists(String tag) {
    Optional<App> cur = agent.store().get(Keys.app(tag)).map(e -> Json.read(e.value(), App.class));
    if (cur.isPresent() && cur.get().beingRemoved()) {
      return tag + " is still being removed (its host " + cur.get().host() + " stops it first); add it again once it is gone";
    }
    return "an app with tag " + tag + " already exists; replace it with PUT";
  }

  /** Operator changes to an app being removed are refused: the remove finishes first. */
  private static App notBeingRemoved(App a) { return refusedAsApiError(() -> OperatorRules.notBeingRemoved(a)); }

  private void replaceApp(Context ctx) {
    String tag = ApiViews.checkTag(ctx.pathParam("tag"));
    AppSpec spec = spec(ctx);
    if (spec.tag() != null && !spec.tag().equals(tag)) throw new ApiError(400, "tag in the body (" + spec.tag() + ") differs from the URL (" + tag + ")");
    App def = fromSpec(new AppSpec(tag, spec.type(), spec.command(), spec.primary(), spec.backups(), spec.resources(),
        spec.managed(), spec.autoFailback(), spec.service(), spec.attributes()));
    App cur = views.app(tag);
    expectVersion(ctx, cur);
    OperatorRules.Transition t = refusedAsApiError(() -> OperatorRules.replace(cur, def));
    validate(t.next());
    if (dryRun(ctx, t.next(), tag)) return;
    write(ctx, cur, t.next(), audit(ctx, "APP_CHANGED", tag, t.message()));
    ctx.json(views.appView(views.app(tag)));
  }

  /**
   * An app with no host is removed at once. One with a host is marked for removal: its host stops it, verifies it gone,
   * and only then removes the object (the first live server does, if the host is DOWN with its lease gone), so a re-add
   * can never start a new instance beside the old one. The request waits for that, up to the app's stop timeout and a
   * few seconds more: 204 when the app is gone, 202 when its removal is still under way.
   */
  private void deleteApp(Context ctx) throws InterruptedException {
    App[] marked = new App[1];
    retrying(ctx, () -> marked[0] = markRemoved(ctx));
    App cur = marked[0];
    if (cur == null) return; // removed at once
    agent.wake();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(cur.command().stopTimeout() + 5_000);
    while (System.nanoTime() < deadline) {
      if (agent.store().localGet(Keys.app(cur.tag())).isEmpty()) {
        ctx.status(204);
        return;
      }
      Thread.sleep(50);
    }
    ctx.status(202).json(Map.of("removing", cur.tag(), "host", cur.host(),
        "message", cur.tag() + " is being stopped on " + cur.host() + "; it is removed once it has stopped"));
  }

  /** Removes an app with no host at once (null), or marks one with a host for removal by its host (the app). */
  private App markRemoved(Context ctx) {
    App cur = views.app(ctx.pathParam("tag"));
    expectVersion(ctx, cur);
    Event ev = audit(ctx, "APP_REMOVED", cur.tag(), "removed " + cur.tag() + (cur.hasHost() ? " (its host " + cur.host() + " stops it first)" : ""));
    if (!cur.hasHost()) {
      TxnResult r = agent.store().txn(List.of(Op.delete(Keys.app(cur.tag()), cur.version()), Op.delete(Keys.marker(cur.tag())),
          Op.put(Keys.tombstone(cur.tag()), Json.write(new dev.understudy.model.Tombstone(cur.tag(), cur.epoch()))),
          eventOp(withChange(ev, cur, null))));
      if (!r.ok()) throw new ApiError(409, cur.tag() + " changed meanwhile; read it again", r.actualVersion());
      ctx.status(204);
      return null;
    }
    if (!cur.beingRemoved()) write(ctx, cur, cur.withTarget(App.REMOVE), ev);
    return cur;
  }

  private void patchAttributes(Context ctx) {
    App cur = notBeingRemoved(views.app(ctx.pathParam("tag")));
    expectVersion(ctx, cur);
    Map<String, String> patch;
    try {
      patch = Json.MAPPER.readValue(ctx.body(), Json.MAPPER.getTypeFactory().constructMapType(HashMap.class, String.class, String.class));
    } catch (JsonProcessingException e) {
      throw new ApiError(400, "attributes must be a JSON object of strings (null removes a key): " + e.getOriginalMessage());
    }
    if (patch == null) throw new ApiError(400, "attributes must be a JSON object of strings (null removes a key)");
    Map<String, String> attrs = new HashMap<>(cur.attributes());
    patch.forEach((k, v) -> {
      if (v == null) attrs.remove(k);
      else attrs.put(k, v);
    });
    App next = cur.withAttributes(attrs);
    validate(next);
    write(ctx, cur, next, audit(ctx, "APP_ATTRIBUTES", cur.tag(), "changed attributes " + patch.keySet() + " of " + cur.tag()));
    ctx.json(views.appView(views.app(cur.tag())));
  }

  /**
   * Operator writes without an explicit version are retried when the app changed between read and write (the cluster
   * confirming it RUNNING, moving it); with {@code ?version=} or If-Match, a conflict is the caller's to resolve.
   */
  private static void retrying(Context ctx, Runnable write) {
    boolean explicit = ctx.queryParam("version") != null || ctx.header("If-Match") != null;
    for (int attempt = 1; ; attempt++) {
      try {
        write.run();
        return;
      } catch (ApiError e) {
        if (explicit || e.status != 409 || e.currentVersion == null || attempt >= 5) throw e;
      }
    }
  }

  private void transitionOnce(Context ctx, String what) {
    App cur = views.app(ctx.pathParam("tag"));
    expectVersion(ctx, cur);
    OperatorRules.Transition t = refusedAsApiError(() -> switch (what) {
      case "unload" -> OperatorRules.unload(cur);
      case "load" -> OperatorRules.load(cur);
      case "reset" -> OperatorRules.reset(cur);
      case "move" -> OperatorRules.move(cur, Optional.ofNullable(ctx.queryParam("to")).orElseGet(() -> bodyField(ctx, "to")), views.serverIds());
      default -> OperatorRules.approveFailback(cur);
    });
    write(ctx, cur, t.next(), audit(ctx, "OPERATOR_" + what.toUpperCase(), cur.tag(), t.message()));
    agent.wake();
    ctx.status(202).json(views.appView(views.app(cur.tag())));
  }

  /** The operator rules' refusals, as the API's errors. */
  private static <T> T refusedAsApiError(java.util.function.Supplier<T> rule) {
    try {
      return rule.get();
    } catch (OperatorRules.Refused r) {
      throw new ApiError(switch (r.refusal()) {
        case CONFLICT -> 409;
        case BAD_REQUEST -> 400;
        case NOT_FOUND -> 404;
      }, r.getMessage());
    }
  }

  private static String bodyField(Context ctx, String field) {
    try {
      if (ctx.body().isBlank()) return null;
      var n = Json.MAPPER.readTree(ctx.body()).get(field);
      return n == null || n.isNull() ? null : n.asText();
    } catch (JsonProcessingException e) {
      throw new ApiError(400, "malformed JSON body: " + e.getOriginalMessage());
    }
  }

  private static void expectVersion(Context ctx, App cur) {
    String v = ctx.queryParam("version");
    if (v == null) v = ctx.header("If-Match");
    if (v == null) return;
    try {
      if (Long.parseLong(v.replace("\"", "")) != cur.version()) {
        throw new ApiError(409, cur.tag() + " is at version " + cur.version() + ", not " + v + "; read it again", cur.version());
      }
    } catch (NumberFormatException e) {
      throw new ApiError(400, "version must be a number (got " + v + ")");
    }
  }

  private void write(Context ctx, App cur, App next, Event ev) {
    ev = withChange(ev, cur, next);
    TxnResult r = agent.store().txn(List.of(Op.put(Keys.app(cur.tag()), Json.write(next.withVersion(0)), cur.version()), eventOp(ev)));
    if (!r.ok()) throw new ApiError(409, cur.tag() + " changed meanwhile (the cluster moved it?); read it again and retry", r.actualVersion());
  }

  /**
   * An audit event records the app before and after the change (JSON, cut at 4,000 characters), with the values of
   * its environment variables left out: they often hold passwords, and events go to every reader, the event stream,
   * webhooks and notification commands.
   */
  private static Event withChange(Event ev, App before, App after) {
    Map<String, String> d = new LinkedHashMap<>(ev.details());
    if (before != null) d.put("before", cut(EnvValues.hidden(before)));
    if (after != null) d.put("after", cut(EnvValues.hidden(after)));
    return new Event(ev.id(), ev.timeMillis(), ev.kind(), ev.server(), ev.app(), ev.message(), d);
  }

  private static String cut(String s) { return s.length() <= 4000 ? s : s.substring(0, 4000) + "..."; }

  Event audit(Context ctx, String kind, String tag, String message) {
    return new Event(agent.id() + "-api-" + System.nanoTime(), System.currentTimeMillis(), kind, agent.id(), tag,
        "operator: " + message, Map.of("who", ctx.header("Authorization") == null ? "anonymous" : "token", "via", "api"));
  }

  static Op eventOp(Event ev) { return Op.put(Keys.event(ev.timeMillis(), ev.id()), Json.write(ev)); }

  /**
   * Server-sent events: every new event as "event", and "change" (at most every 200 ms) when anything changed. Each
   * client is fed from a bounded queue by a thread of its own ({@link EventFeed}): a slow reader is dropped.
   */
  private void stream(io.javalin.http.sse.SseClient client) {
    client.keepAlive();
    java.util.concurrent.atomic.AtomicLong lastChange = new java.util.concurrent.atomic.AtomicLong();
    EventFeed[] feed = new EventFeed[1];
    EventReplay[] replay = new EventReplay[1];
    String after = client.ctx().header("Last-Event-ID") != null ? client.ctx().header("Last-Event-ID") : client.ctx().queryParam("after");
    java.util.function.Consumer<Event> onEvent = e -> replay[0].live(e);
    Runnable onChange = () -> {
      long now = System.nanoTime();
      long prev = lastChange.get();
      if (now - prev > 200_000_000L && lastChange.compareAndSet(prev, now)) feed[0].offer("change", "{}");
    };
    feed[0] = EventFeed.open(client, agent.id(), () -> {
      agent.removeEventListener(onEvent);
      agent.removeChangeListener(onChange);
    });
    if (feed[0] == null) return;
    replay[0] = new EventReplay(feed[0], after);
    feed[0].offer(null, "understudy event stream from " + agent.id());
    agent.onEvent(onEvent);
    agent.onChange(onChange);
    replay[0].replay(agent.store()); // after registering: an event applied meanwhile is not lost
  }

  private static String openApi() {
    try (var in = ApiServer.class.getResourceAsStream("/openapi.json")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (java.io.IOException | NullPointerException e) {
      throw new ApiError(500, "openapi.json missing from the jar");
    }
  }

  public List<String> servedRoutes() {
    return http.unsafeConfig().pvt.internalRouter.allHttpHandlers().stream()
        .map(e -> e.getEndpoint().getMethod().name() + " " + e.getEndpoint().getPath()).distinct().sorted().toList();
  }

  @Override
  public void close() { http.stop(); }
}
