package dev.understudy.store;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import dev.understudy.tls.ReloadingKeys;

/**
 * Where this replica lives and who its peers are. {@code peers} includes this server; the first
 * {@link #MAX_VOTERS} are voters and the rest listeners (non-voting), so a large cluster keeps a small quorum. With
 * {@code tls}, Ratis accepts and makes only mutual TLS connections with certificates of the cluster CA; without it
 * (tests and benchmarks of the store alone), plain ones.
 */
public record StoreConfig(
    String serverId,
    String clusterName,
    Path dataDir,
    List<Peer> peers,
    Duration electionTimeoutMin,
    Duration electionTimeoutMax,
    Duration requestTimeout,
    long snapshotEvery,
    ReloadingKeys tls) {

  public StoreConfig(String serverId, String clusterName, Path dataDir, List<Peer> peers, Duration electionTimeoutMin,
                     Duration electionTimeoutMax, Duration requestTimeout, long snapshotEvery) {
    this(serverId, clusterName, dataDir, peers, electionTimeoutMin, electionTimeoutMax, requestTimeout, snapshotEvery, null);
  }

  public StoreConfig(String serverId, String clusterName, Path dataDir, List<Peer> peers, Duration electionTimeoutMin,
                     Duration electionTimeoutMax, Duration requestTimeout) {
    this(serverId, clusterName, dataDir, peers, electionTimeoutMin, electionTimeoutMax, requestTimeout, 10_000, null);
  }

  /** The same replica with every Raft connection (server, clients, admin) mutual TLS over {@code keys}. */
  public StoreConfig withTls(ReloadingKeys keys) {
    return new StoreConfig(serverId, clusterName, dataDir, peers, electionTimeoutMin, electionTimeoutMax, requestTimeout,
        snapshotEvery, keys);
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
