package dev.understudy.store;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Where this replica lives and who its peers are. {@code peers} includes this server; the first
 * {@link #MAX_VOTERS} are voters and the rest listeners (non-voting), so a large cluster keeps a small quorum.
 */
public record StoreConfig(
    String serverId,
    String clusterName,
    Path dataDir,
    List<Peer> peers,
    Duration electionTimeoutMin,
    Duration electionTimeoutMax,
    Duration requestTimeout,
    long snapshotEvery) {

  public StoreConfig(String serverId, String clusterName, Path dataDir, List<Peer> peers, Duration electionTimeoutMin,
                     Duration electionTimeoutMax, Duration requestTimeout) {
    this(serverId, clusterName, dataDir, peers, electionTimeoutMin, electionTimeoutMax, requestTimeout, 10_000);
  }

  public static final int MAX_VOTERS = 5;

  public record Peer(String id, String host, int raftPort) {
    public String address() { return host + ":" + raftPort; }
  }

  public Peer self() {
    return peers.stream().filter(p -> p.id().equals(serverId)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("server " + serverId + " is not among the peers " + peers));
  }
}
