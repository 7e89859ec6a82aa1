package dev.understudy.api;

import dev.understudy.agent.Agent;
import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.decide.Decider;
import dev.understudy.decide.LocalView;
import dev.understudy.model.App;
import dev.understudy.model.AppTimeline;
import dev.understudy.model.AppValidator;
import dev.understudy.model.Event;
import dev.understudy.model.Keys;
import dev.understudy.model.ServerRecord;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** What the API shows: the cluster, servers and apps as this agent sees them, events and logs. */
final class ApiViews {
  private final Agent agent;

  ApiViews(Agent agent) { this.agent = agent; }

  /**
   * Liveness, and readiness: {@code ready} once this agent knows the leader, holds its lease and its replica has applied
   * a lease write of this life (it has caught up). Restart the next server of a rolling upgrade only after that: a
   * leader stopping while a follower is still catching up pauses the cluster's writes.
   */
  Map<String, Object> health() {
    String leader = agent.store().leaderId().orElse("");
    boolean lease = agent.leaseKeeper().valid();
    boolean caughtUp = agent.caughtUp();
    return Map.of("ok", true, "server", agent.id(), "leader", leader, "lease", lease, "caughtUp", caughtUp,
        "ready", !leader.isEmpty() && lease && caughtUp);
  }

  Map<String, Object> cluster() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("self", agent.id());
    m.put("leader", agent.store().leaderId().orElse(null));
    m.put("members", agent.members().stream().map(p -> p.id()).toList());
    m.put("replica", agent.replicaStatus());
    m.put("format", dev.understudy.agent.FormatKeeper.view(agent));
    Map<String, Object> timing = new LinkedHashMap<>();
    for (var c : dev.understudy.agent.Timing.class.getRecordComponents()) {
      try {
        Object v = c.getAccessor().invoke(agent.timing());
        timing.put(c.getName(), v instanceof java.time.Duration d ? dev.understudy.agent.Durations.format(d) : v);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    }
    m.put("timing", timing);
    return m;
  }

  Map<String, Object> status() {
    ClusterSnapshot snap = agent.snapshot();
    LocalView view = agent.localView();
    String leader = agent.store().leaderId().orElse(null);
    List<Map<String, Object>> servers = new ArrayList<>();
    for (var p : agent.members()) servers.add(serverView(p.id(), snap, leader, p.address()));
    List<Map<String, Object>> apps = new ArrayList<>();
    var here = agent.supervisor().instances();
    for (App a : snap.apps().values()) apps.add(withWhatRunsHere(appView(a, snap, view), here));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("self", agent.id());
    m.put("view", agent.standing());
    if (!snap.maintenance().isNone()) m.put("maintenance", snap.maintenance());
    m.put("leader", leader);
    m.put("servers", servers);
    m.put("apps", apps);
    return m;
  }

  Map<String, Object> server(String id) {
    var peer = agent.members().stream().filter(p -> p.id().equals(id)).findFirst()
        .orElseThrow(() -> new ApiError(404, "unknown server " + id + "; the cluster has " + serverIds()));
    return serverView(id, agent.snapshot(), agent.store().leaderId().orElse(null), peer.address());
  }

  Map<String, Object> serverView(String id, ClusterSnapshot snap, String leader, String address) {
    Map<String, Object> m = new LinkedHashMap<>();
    ServerRecord rec = snap.servers().get(id);
    m.put("id", id);
    m.put("address", address);
    m.put("role", rec != null && rec.witness() ? "witness" : "server");
    m.put("leader", id.equals(leader));
    m.put("voter", agent.members().stream().map(p -> p.id()).toList().indexOf(id) < dev.understudy.store.StoreConfig.MAX_VOTERS);
    if (id.equals(agent.id())) {
      m.put("verdict", agent.leaseKeeper().valid() ? "UP" : "FENCED");
      m.put("self", true);
      m.put("leaseRemainingMs", agent.leaseKeeper().remainingMillis());
    } else {
      dev.understudy.core.PeerStatus ps = agent.peerStatus().get(id);
      if (ps != null) {
        m.put("verdict", ps.verdict().name());
        m.put("since", ps.sinceWallMillis());
        m.put("lan", ps.lanOk() ? "ok" : "lost");
        m.put("disk", ps.disk().name());
        m.put("lease", ps.leaseExpired() ? "expired" : "current");
        if (agent.restarting(id)) m.put("restarting", true);
      }
    }
    if (rec != null) {
      m.put("apiUrl", rec.apiUrl());
      m.put("inventory", rec.inventory());
      m.put("uplink", rec.uplinkOk() ? "ok" : "lost: " + rec.uplinkReason());
    }
    return m;
  }

  Map<String, Object> appView(App a) {
    return withWhatRunsHere(appView(a, agent.snapshot(), agent.localView()), agent.supervisor().instances());
  }

  /**
   * The view shows the database's record (host, state); {@code onThisServer} adds what the answering server's own
   * supervisor runs: the two differ while a move is under way, and on a server cut off from the majority.
   */
  private static Map<String, Object> withWhatRunsHere(Map<String, Object> v, Map<String, dev.understudy.decide.Instance> here) {
    var i = here.get(String.valueOf(v.get("tag")));
    v.put("onThisServer", i == null ? "NOT_RUNNING" : i.standby() ? "STANDBY" : i.phase().name());
    return v;
  }

  Map<String, Object> appView(App a, ClusterSnapshot snap, LocalView view) {
    Map<String, Object> m = Json.MAPPER.convertValue(a, LinkedHashMap.class);
    agent.store().localGet(Keys.marker(a.tag())).ifPresent(e -> {
      var mk = Json.read(e.value(), ClientApi.Marker.class);
      m.put("markerBytes", java.util.Base64.getDecoder().decode(mk.data()).length);
      m.put("markerEpoch", mk.epoch());
    });
    List<String> qualified = new ArrayList<>();
    Map<String, List<String>> missing = new LinkedHashMap<>();
    for (String s : a.servers()) {
      List<String> miss = Decider.missingOn(s, a, snap, view, agent.settings(), agent.nowNanos());
      if (!miss.isEmpty()) missing.put(s, miss);
      else if (!s.equals(a.host()) && Decider.qualifies(s, a, snap, view, agent.settings(), agent.nowNanos())) qualified.add(s);
    }
    m.put("qualifiedBackups", qualified);
    if (!missing.isEmpty()) m.put("missing", missing);
    Optional<String> next = Decider.firstCandidate(a, snap, view, agent.settings(), agent.nowNanos(), a.host());
    m.put("nextHost", next.orElse(null));
    return m;
  }

  App app(String tag) {
    checkTag(tag);
    Entry e = agent.store().get(Keys.app(tag))
        .orElseThrow(() -> new ApiError(404, "no app with tag " + tag + "; list them with GET /api/v1/apps"));
    return Json.read(e.value(), App.class).withVersion(e.version());
  }

  /** An app's log lives on its host: answer locally, or ask the host's agent (one hop, never further). */
  void logs(Context ctx) {
    String tag = checkTag(ctx.pathParam("tag"));
    App a = app(tag);
    if (!a.hasHost() || a.host().equals(agent.id()) || ctx.queryParam("local") != null) {
      ctx.json(Map.of("server", agent.id(), "lines", agent.supervisor().logTail(tag, 100)));
      return;
    }
    var host = agent.members().stream().filter(p -> p.id().equals(a.host())).findFirst()
        .orElseThrow(() -> new ApiError(404, "host " + a.host() + " is not a member"));
    try {
      var r = agent.peerHttp().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
          agent.config().apiUrl(host) + "/api/v1/apps/" + tag + "/logs?local=1"))
          .header("Authorization", "Bearer " + agent.config().cluster().token()) // the host's reads may need it
          .timeout(java.time.Duration.ofSeconds(3)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      ctx.status(r.statusCode()).contentType("application/json").result(r.body());
    } catch (java.io.IOException e) {
      throw new ApiError(503, "cannot reach " + a.host() + " for the log of " + tag + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiError(503, "interrupted");
    }
  }

  static String checkTag(String tag) {
    if (!AppValidator.TAG.matcher(tag).matches()) throw new ApiError(400, "tag must be 1-64 of A-Z a-z 0-9 . _ -");
    return tag;
  }

  void events(Context ctx) {
    int limit = Math.min(1000, intParam(ctx, "limit", 100));
    String after = ctx.queryParam("after");
    List<Event> out = new ArrayList<>();
    for (Entry e : agent.store().localList(Keys.EVENTS)) {
      if (after != null && e.key().compareTo(Keys.EVENTS + after) <= 0) continue;
      out.add(Json.read(e.value(), Event.class));
    }
    ctx.json(out.subList(Math.max(0, out.size() - limit), out.size()));
  }

  /**
   * Where the app ran and its outages, from the events the cluster still keeps (the last 2,000 of all apps):
   * {@code coversFromMillis} says how far back that reaches.
   */
  void timeline(Context ctx) {
    String tag = app(ctx.pathParam("tag")).tag();
    List<Event> mine = new ArrayList<>();
    long covers = System.currentTimeMillis();
    for (Entry e : agent.store().localList(Keys.EVENTS)) {
      Event ev = Json.read(e.value(), Event.class);
      covers = Math.min(covers, ev.timeMillis());
      if (tag.equals(ev.app())) mine.add(ev);
    }
    AppTimeline.Timeline t = AppTimeline.of(mine);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("tag", tag);
    out.put("coversFromMillis", covers);
    out.put("nowMillis", System.currentTimeMillis());
    out.put("hosted", t.hosted());
    out.put("outages", t.outages());
    ctx.json(out);
  }

  static int intParam(Context ctx, String name, int dflt) {
    String v = ctx.queryParam(name);
    if (v == null) return dflt;
    try {
      int n = Integer.parseInt(v);
      if (n < 1) throw new NumberFormatException();
      return n;
    } catch (NumberFormatException e) {
      throw new ApiError(400, name + " must be a positive number (got " + v + ")");
    }
  }

  Set<String> serverIds() {
    Set<String> ids = new TreeSet<>();
    agent.members().forEach(p -> ids.add(p.id()));
    return ids;
  }

  Set<String> hostableServers() {
    Set<String> ids = serverIds();
    for (Entry e : agent.store().localList(Keys.SERVERS)) {
      ServerRecord r = Json.read(e.value(), ServerRecord.class);
      if (r.witness()) ids.remove(r.id());
    }
    return ids;
  }
}
