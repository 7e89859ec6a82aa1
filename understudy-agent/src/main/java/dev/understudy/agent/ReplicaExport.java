package dev.understudy.agent;

import dev.understudy.model.Keys;
import dev.understudy.store.Entry;
import dev.understudy.store.RaftStore;
import dev.understudy.store.StoreConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The way back when a majority of servers is lost for good: this server's own replica, read with its agent stopped,
 * into the same form as {@code snapshot save}, to seed a new cluster with {@code snapshot restore}. The replica applies
 * what it knew to be committed when it stopped; writes the lost majority committed after that are not in it, so the
 * copy may be behind what clients were told (the operator is warned). Ratis's lock on the storage refuses a replica
 * whose agent still runs.
 */
public final class ReplicaExport {
  private ReplicaExport() {}

  /** What a backup keeps: what operators and apps put there, not leases, server records or events. */
  public static final List<String> KEPT = List.of(Keys.APPS, Keys.MARKERS, Keys.TOMBSTONES, Keys.MAINTENANCE);

  /** The entries kept, and the last log index the replica applied. */
  public record Copy(Map<String, String> entries, long appliedIndex) {}

  /** Reads {@code config}'s replica: starts it alone, waits until it has applied all it can ({@code settle} unchanged). */
  public static Copy read(AgentConfig config, Duration settle) throws IOException {
    Path data = Path.of(config.dataDir()).toAbsolutePath();
    Timing timing = config.timingValues();
    var peers = config.peers().stream().map(p -> new StoreConfig.Peer(p.id(), p.address(), config.raftPort(p))).toList();
    StoreConfig sc = new StoreConfig(config.server(), config.clusterName(), data, peers, timing.electionTimeoutMin(),
        timing.electionTimeoutMax(), Duration.ofSeconds(3), config.snapshotEvery()).withTls(AgentParts.keys(config));
    if (!RaftStore.hasReplica(sc)) throw new ConfigException("dataDir", data + " holds no replica of cluster " + config.clusterName());
    RaftStore store = RaftStore.start(sc, false);
    try {
      long last = -2;
      long stableSince = System.nanoTime();
      long giveUp = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (System.nanoTime() < giveUp) {
        long applied = store.lastAppliedIndex();
        if (applied != last) {
          last = applied;
          stableSince = System.nanoTime();
        } else if (System.nanoTime() - stableSince > settle.toNanos()) {
          break;
        }
        Thread.sleep(100);
      }
      Map<String, String> entries = new TreeMap<>();
      for (String prefix : KEPT) for (Entry e : store.localList(prefix)) entries.put(e.key(), e.value());
      return new Copy(entries, store.lastAppliedIndex());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    } finally {
      store.close();
    }
  }
}
