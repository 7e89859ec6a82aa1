package dev.understudy.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.understudy.agent.Agent;
import dev.understudy.model.App;
import dev.understudy.model.AppValidator;
import dev.understudy.model.Event;
import dev.understudy.model.Keys;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.StoreUnavailableException;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Adding and removing servers of the running cluster, and the test-only fault switches. */
final class MembershipRoutes {
  private final Agent agent;
  private final ApiViews views;
  private final ApiServer api;

  MembershipRoutes(Agent agent, ApiViews views, ApiServer api) {
    this.agent = agent;
    this.views = views;
    this.api = api;
  }

  record ServerSpec(String id, String address, Integer apiPort, Integer raftPort, Integer heartbeatPort) {}

  /** Adds a server to the running cluster: start its agent first (its config lists every member, itself last). */
  synchronized void addServer(Context ctx) throws Exception {
    ServerSpec spec;
    try {
      spec = Json.MAPPER.readValue(ctx.body(), ServerSpec.class);
    } catch (JsonProcessingException e) {
      throw new ApiError(400, "a server is {id, address[, apiPort, raftPort, heartbeatPort]}: " + e.getOriginalMessage());
    }
    if (spec == null) throw new ApiError(400, "a server is {id, address[, apiPort, raftPort, heartbeatPort]}");
    if (spec.id() == null || !AppValidator.SERVER_ID.matcher(spec.id()).matches()) throw new ApiError(400, "id must be 1-64 of A-Z a-z 0-9 . _ -");
    if (spec.address() == null || spec.address().isBlank()) throw new ApiError(400, "address is required");
    if (views.serverIds().contains(spec.id())) throw new ApiError(409, spec.id() + " is already a member");
    var cfg = agent.config();
    List<dev.understudy.agent.AgentConfig.Peer> members = new ArrayList<>(agent.members());
    int order = members.size() + (int) agent.store().localList(Keys.MEMBERS).stream().count();
    dev.understudy.model.Member m = new dev.understudy.model.Member(spec.id(), spec.address(),
        spec.apiPort() != null ? spec.apiPort() : cfg.apiPort(), spec.raftPort() != null ? spec.raftPort() : cfg.raftPort(),
        spec.heartbeatPort() != null ? spec.heartbeatPort() : cfg.heartbeatPort(), order, false);
    members.add(new dev.understudy.agent.AgentConfig.Peer(m.id(), m.address(), m.apiPort(), m.raftPort(), m.heartbeatPort()));
    try {
      agent.store().setMembers(members.stream().map(p -> new dev.understudy.store.StoreConfig.Peer(p.id(), p.address(), p.raftPort())).toList());
    } catch (java.io.IOException e) {
      throw new ApiError(409, "the database refused to add " + spec.id() + " (is its agent running and reachable at "
          + m.address() + ":" + m.raftPort() + "?): " + e.getMessage());
    }
    Event ev = api.audit(ctx, "SERVER_ADDED", null, "added server " + m.id() + " at " + m.address());
    // the group has just changed (a new voter catching up, maybe a new leader): the record write may need retries
    for (int attempt = 1; ; attempt++) {
      try {
        agent.store().txn(List.of(Op.put(Keys.member(m.id()), Json.write(m)), ApiServer.eventOp(ev)));
        break;
      } catch (StoreUnavailableException e) {
        if (attempt >= 10) throw e;
        Thread.sleep(500);
      }
    }
    ctx.status(201).json(Map.of("id", m.id(), "address", m.address(), "voter", members.size() <= dev.understudy.store.StoreConfig.MAX_VOTERS));
  }

  /** Removes a server that no app names any more. */
  synchronized void removeServer(Context ctx) throws Exception {
    String id = ctx.pathParam("id");
    var members = new ArrayList<>(agent.members());
    var gone = members.stream().filter(p -> p.id().equals(id)).findFirst()
        .orElseThrow(() -> new ApiError(404, "unknown server " + id + "; the cluster has " + views.serverIds()));
    List<String> users = new ArrayList<>();
    for (Entry e : agent.store().list(Keys.APPS)) { // linearizable: an app removed a moment ago is gone here too
      App a = Json.read(e.value(), App.class);
      if (a.servers().contains(id)) users.add(a.tag());
    }
    if (!users.isEmpty()) throw new ApiError(409, id + " is still primary or backup of " + users + "; change those apps first");
    if (members.size() <= 2) throw new ApiError(409, "a cluster needs at least two servers");
    members.remove(gone);
    try {
      agent.store().setMembers(members.stream().map(p -> new dev.understudy.store.StoreConfig.Peer(p.id(), p.address(), p.raftPort())).toList());
    } catch (java.io.IOException e) {
      throw new ApiError(409, "the database refused to remove " + id + ": " + e.getMessage());
    }
    dev.understudy.model.Member m = new dev.understudy.model.Member(id, gone.address(), gone.apiPort() == null ? 0 : gone.apiPort(),
        gone.raftPort() == null ? 0 : gone.raftPort(), gone.heartbeatPort() == null ? 0 : gone.heartbeatPort(), Integer.MAX_VALUE, true);
    Event ev = api.audit(ctx, "SERVER_REMOVED", null, "removed server " + id);
    agent.store().txn(List.of(Op.put(Keys.member(id), Json.write(m)), ApiServer.eventOp(ev)));
    ctx.status(204);
  }

  /** The answering agent reads its configuration file again (see ConfigReload); a file that does not validate changes nothing. */
  void reload(Context ctx) {
    try {
      ctx.json(agent.reload());
    } catch (IllegalArgumentException e) { // a ConfigException names the key
      throw new ApiError(400, "the configuration was not reloaded, nothing changed: " + e.getMessage());
    }
  }

  // ---- fault injection (only with testHooks: true) -------------------------------------------------------------

  void faults(Context ctx) {
    if (!agent.config().hooksEnabled()) throw new ApiError(404, "fault injection is off (testHooks: false)");
    Map<?, ?> body;
    try {
      body = Json.MAPPER.readValue(ctx.body(), Map.class);
    } catch (JsonProcessingException e) {
      throw new ApiError(400, "faults are {dropHeartbeats: [ids], freezeDisk, corruptDisk, hangDisk, failDisk, loseCommitAnswers: bool}: " + e.getOriginalMessage());
    }
    if (body == null) throw new ApiError(400, "faults are {dropHeartbeats: [ids], freezeDisk, corruptDisk, hangDisk, failDisk, loseCommitAnswers: bool}");
    if (body.containsKey("dropHeartbeats")) {
      if (!(body.get("dropHeartbeats") instanceof List<?> l) || l.stream().anyMatch(x -> !(x instanceof String))) {
        throw new ApiError(400, "dropHeartbeats must be a list of server ids");
      }
      List<String> peers = l.stream().map(String::valueOf).toList();
      agent.heartbeat().setDropped(Set.copyOf(peers));
    }
    if (body.containsKey("freezeDisk") && agent.disk() != null) agent.disk().setFrozen(Boolean.TRUE.equals(body.get("freezeDisk")));
    if (body.containsKey("hangDisk") && agent.disk() != null) agent.disk().setHung(Boolean.TRUE.equals(body.get("hangDisk")));
    if (body.containsKey("failDisk") && agent.disk() != null) agent.disk().setFailing(Boolean.TRUE.equals(body.get("failDisk")));
    if (body.containsKey("loseCommitAnswers")) agent.loseCommitAnswers(Boolean.TRUE.equals(body.get("loseCommitAnswers")));
    if (Boolean.TRUE.equals(body.get("corruptDisk")) && agent.disk() != null) {
      try {
        agent.disk().setFrozen(true);
        agent.disk().corruptOwnSlot();
      } catch (java.io.IOException e) {
        throw new ApiError(500, e.getMessage());
      }
    }
    ctx.json(Map.of("dropHeartbeats", agent.heartbeat().dropped(), "diskFrozen", agent.disk() != null && agent.disk().frozen()));
  }

  /** "METHOD /path" of every route served (the OpenAPI test compares them with openapi.json). */
}
