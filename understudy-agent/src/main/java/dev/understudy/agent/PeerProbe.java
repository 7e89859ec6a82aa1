package dev.understudy.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.store.Json;
import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Asks peers for their /api/v1/cluster: joining at start, and finding the leader of a stalled replica. */
final class PeerProbe {
  private static final Logger log = LoggerFactory.getLogger(PeerProbe.class);

  private final AgentConfig config;
  private final String self;
  private final java.net.http.HttpClient peerHttp;

  PeerProbe(AgentConfig config, java.net.http.HttpClient peerHttp) {
    this.config = config;
    this.peerHttp = peerHttp;
    this.self = config.server();
  }

  /**
   * A fresh server is joining a running cluster (an operator is adding it) when a peer answers with a member list
   * that does not name it. In a cluster being formed, every peer's list names every server, or no peer answers yet.
   */
  boolean joiningRunningCluster() {
    for (var p : config.peers()) {
      if (p.id().equals(self)) continue;
      var cluster = cluster(p);
      if (cluster == null) continue;
      var members = cluster.path("members");
      boolean listed = false;
      for (var m : members) listed |= m.asText().equals(self);
      if (!listed) log.info("{} is joining a running cluster (members {}): waiting for the leader to add it", self, members);
      return !listed;
    }
    return false;
  }

  /** A peer's /api/v1/cluster answer, or null when it does not answer (yet). */
  JsonNode cluster(AgentConfig.Peer p) {
    var req = java.net.http.HttpRequest.newBuilder(java.net.URI.create(config.apiUrl(p) + "/api/v1/cluster"))
        .timeout(Duration.ofSeconds(1));
    if (config.cluster().token() != null) req.header("Authorization", "Bearer " + config.cluster().token());
    try {
      var r = peerHttp.send(req.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? Json.MAPPER.readTree(r.body()) : null;
    } catch (IOException e) {
      log.debug("{} not answering: {}", p.id(), e.toString());
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
