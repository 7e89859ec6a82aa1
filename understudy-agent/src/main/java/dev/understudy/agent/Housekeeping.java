package dev.understudy.agent;

import dev.understudy.core.Input;
import dev.understudy.decide.DiskState;
import dev.understudy.model.Event;
import dev.understudy.model.Keys;
import dev.understudy.model.ServerRecord;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.StoreUnavailableException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Once an uplink interval: keeps the cluster's format ({@link FormatKeeper}), applies membership changes to the
 * detectors, repairs a stalled replica, probes the uplink, publishes this server's record and readiness when they
 * change, and (on the leader) trims the event history.
 */
final class Housekeeping implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Housekeeping.class);
  static final int MAX_EVENTS = 2000;

  private final Agent agent;
  private final CoreLoop loop;
  private final ReplicaDoctor replicaDoctor;
  private String lastLeader;
  private ServerRecord publishedRecord;
  private Map<String, List<String>> publishedReadiness;
  private List<String> lastMembers = List.of();
  private final FormatKeeper formats;

  Housekeeping(Agent agent, CoreLoop loop, ReplicaDoctor replicaDoctor) {
    this.agent = agent;
    this.loop = loop;
    this.replicaDoctor = replicaDoctor;
    this.formats = new FormatKeeper(agent, Build.VERSION, agent::refuseFormat);
  }

  @Override
  public void run() {
    try {
      if (formats.refused()) return;
      var store = agent.store();
      String leader = store.leaderId().orElse(null);
      if (leader != null && !leader.equals(lastLeader)) {
        if (lastLeader != null) agent.metrics().leaderChanged();
        lastLeader = leader;
      }
      syncMembers();
      replicaDoctor.check();
      var uplink = agent.uplink();
      uplink.probe();
      var config = agent.config();
      ServerRecord rec = new ServerRecord(agent.id(), config.address(), agent.apiUrl(), config.heartbeatPort(), config.isWitness(),
          agent.inventory(), uplink.ok(), uplink.reason(), null);
      if (!rec.equals(publishedRecord)) {
        store.put(Keys.server(agent.id()), Json.write(rec));
        if (publishedRecord != null && publishedRecord.uplinkOk() != rec.uplinkOk()) {
          agent.emit(new Event(null, 0, rec.uplinkOk() ? "UPLINK_OK" : "UPLINK_LOST", agent.id(), null,
              agent.id() + (rec.uplinkOk() ? " reaches its uplink again" : " lost its uplink: " + rec.uplinkReason()), Map.of()));
        }
        publishedRecord = rec;
      }
      Map<String, List<String>> ready = loop.status().readiness();
      if (!ready.equals(publishedReadiness)) {
        store.put(Keys.readiness(agent.id()), Json.write(ready));
        publishedReadiness = ready;
      }
      formats.keep();
      if (store.isLeader()) trimEvents();
    } catch (StoreUnavailableException e) {
      log.debug("housekeeping: {}", e.getMessage());
    } catch (RuntimeException e) {
      log.warn("housekeeping failed: {}", e.toString());
    }
  }

  private void trimEvents() {
    var store = agent.store();
    List<Entry> events = store.localList(Keys.EVENTS);
    if (events.size() <= MAX_EVENTS) return;
    List<Op> dels = new ArrayList<>();
    for (Entry e : events.subList(0, events.size() - MAX_EVENTS)) {
      dels.add(Op.delete(e.key()));
      Event ev = Json.read(e.value(), Event.class);
      dels.add(Op.delete(Notifier.claimKey("webhook", ev)));
      dels.add(Op.delete(Notifier.claimKey("command", ev)));
    }
    store.txn(dels);
  }

  /** Applies membership changes to the detectors (heartbeats, disk slots) and the core's verdicts. */
  void syncMembers() {
    List<AgentConfig.Peer> ms = agent.members();
    Map<String, InetSocketAddress> hb = new HashMap<>();
    for (var p : ms) hb.put(p.id(), new InetSocketAddress(p.address(), p.heartbeatPort()));
    agent.heartbeat().setPeers(hb);
    List<String> ids = ms.stream().map(AgentConfig.Peer::id).toList();
    if (agent.disk() != null) agent.disk().setServers(ids);
    if (!ids.equals(lastMembers)) {
      lastMembers = ids;
      loop.post(new Input.Members(ids, agent.nowNanos(), agent.disk() == null ? DiskState.NOT_CONFIGURED : DiskState.STALE));
    }
  }
}
