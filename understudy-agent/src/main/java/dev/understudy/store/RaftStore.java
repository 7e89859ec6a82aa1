package dev.understudy.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/** The cluster database replica of one agent: a Ratis server plus a client to reach the leader. */
public final class RaftStore implements Store {
  private final StoreConfig config;
  private final KvStateMachine machine = new KvStateMachine();
  private final RaftGroup group;
  private RaftServer server;
  private RaftClient client;
  /**
   * Lease renewals go through their own client on the blocking API with a short timeout: each renewal is independent,
   * so one stuck on a frozen leader neither delays the next nor queues behind other requests.
   */
  private RaftClient quickClient;
  private final java.util.concurrent.ExecutorService quickPool = java.util.concurrent.Executors.newFixedThreadPool(4, r -> {
    Thread t = new Thread(r, "store-quick");
    t.setDaemon(true);
    return t;
  });

  private RaftStore(StoreConfig config) {
    this.config = config;
    this.group = group(config);
  }

  /** Starts the replica: FORMAT on an empty data directory, RECOVER when it already holds one. */
  public static RaftStore start(StoreConfig config) throws IOException {
    RaftStore s = new RaftStore(config);
    RaftProperties props = properties(config);
    Path raftDir = config.dataDir().resolve("raft");
    Files.createDirectories(raftDir);
    Path groupDir = raftDir.resolve(s.group.getGroupId().getUuid().toString());
    boolean existing = Files.isDirectory(groupDir);
    if (existing) checkNotDamaged(groupDir);
    try {
      s.server = RaftServer.newBuilder()
          .setServerId(RaftPeerId.valueOf(config.serverId()))
          .setGroup(s.group)
          .setProperties(props)
          .setStateMachine(s.machine)
          .setOption(existing ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT)
          .build();
      s.server.start();
    } catch (StoreCorruptedException e) {
      s.close();
      throw e;
    } catch (IOException | RuntimeException e) {
      s.close();
      if (existing) {
        throw new StoreCorruptedException("cannot open the database replica in " + groupDir + ": " + rootMessage(e)
            + ". The data directory is damaged or from another cluster: restore it, or remove it so this server"
            + " rejoins as an empty replica and copies the database from the others.", e);
      }
      throw e;
    }
    RaftProperties quick = properties(config);
    RaftClientConfigKeys.Rpc.setRequestTimeout(quick, TimeDuration.valueOf(
        Math.max(200, config.electionTimeoutMax().toMillis() * 2), TimeUnit.MILLISECONDS));
    s.quickClient = RaftClient.newBuilder()
        .setProperties(quick)
        .setRaftGroup(s.group)
        .setClientId(ClientId.randomId())
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(3, TimeDuration.valueOf(30, TimeUnit.MILLISECONDS)))
        .build();
    s.client = RaftClient.newBuilder()
        .setProperties(props)
        .setRaftGroup(s.group)
        .setClientId(ClientId.randomId())
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
            Integer.MAX_VALUE, TimeDuration.valueOf(50, TimeUnit.MILLISECONDS)))
        .build();
    return s;
  }

  private KvStateMachine sm() { return machine; }

  /** A group directory without its current/raft-meta is what a truncated copy or a half-deleted one looks like. */
  private static void checkNotDamaged(Path groupDir) {
    Path meta = groupDir.resolve("current").resolve("raft-meta");
    Path conf = groupDir.resolve("current").resolve("raft-meta.conf");
    if (!Files.isRegularFile(meta) && !Files.isRegularFile(conf)) {
      throw new StoreCorruptedException("the database replica in " + groupDir + " is incomplete (no "
          + groupDir.relativize(meta) + "). Restore the data directory, or remove " + groupDir
          + " so this server rejoins as an empty replica and copies the database from the others.", null);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }

  static RaftGroup group(StoreConfig config) {
    UUID uuid = UUID.nameUUIDFromBytes(("understudy:" + config.clusterName()).getBytes(StandardCharsets.UTF_8));
    List<RaftPeer> peers = new ArrayList<>();
    for (int i = 0; i < config.peers().size(); i++) {
      StoreConfig.Peer p = config.peers().get(i);
      peers.add(RaftPeer.newBuilder()
          .setId(p.id())
          .setAddress(p.address())
          .setStartupRole(i < StoreConfig.MAX_VOTERS ? RaftPeerRole.FOLLOWER : RaftPeerRole.LISTENER)
          .build());
    }
    return RaftGroup.valueOf(RaftGroupId.valueOf(uuid), peers);
  }

  private static RaftProperties properties(StoreConfig config) {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    StoreConfig.Peer self = config.self();
    GrpcConfigKeys.Server.setHost(p, self.host());
    GrpcConfigKeys.Server.setPort(p, self.raftPort());
    RaftServerConfigKeys.setStorageDir(p, List.of(config.dataDir().resolve("raft").toFile()));
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, td(config.electionTimeoutMin()));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, td(config.electionTimeoutMax()));
    RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(p, td(config.electionTimeoutMin()));
    RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(p, td(config.electionTimeoutMax()));
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    // snapshots keep the log short; small segments let the purge actually free space
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, config.snapshotEvery());
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    // segments sized so that a snapshot's worth of entries spans several: only closed segments can be purged
    long segment = Math.max(16 * 1024, Math.min(4L << 20, config.snapshotEvery() * 128));
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(segment));
    RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.min(Integer.MAX_VALUE, config.snapshotEvery()));
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, td(config.requestTimeout()));
    return p;
  }

  private static TimeDuration td(java.time.Duration d) {
    return TimeDuration.valueOf(d.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public Optional<Entry> get(String key) {
    return query(new Requests.Query(key, null)).stream().findFirst();
  }

  @Override
  public List<Entry> list(String prefix) {
    return query(new Requests.Query(null, prefix));
  }

  private List<Entry> query(Requests.Query q) {
    RaftClientReply reply = await(client.async().sendReadOnly(Message.valueOf(Json.write(q))), "read");
    return Json.read(reply.getMessage().getContent().toString(StandardCharsets.UTF_8), Requests.QueryAnswer.class)
        .entries();
  }

  @Override
  public Optional<Entry> localGet(String key) { return sm().state().get(key); }

  @Override
  public List<Entry> localList(String prefix) { return sm().state().list(prefix); }

  @Override
  public TxnResult txn(List<Op> ops) {
    RaftClientReply reply = await(client.async().send(Message.valueOf(Json.write(new Requests.Txn(ops)))), "write");
    return Json.read(reply.getMessage().getContent().toString(StandardCharsets.UTF_8), TxnResult.class);
  }

  /**
   * A write on the ordered asynchronous client, without waiting: many may be in flight, so the leader batches them
   * (what sustained throughput needs; the agent itself writes a few times a second).
   */
  public java.util.concurrent.CompletableFuture<TxnResult> txnPipelined(List<Op> ops) {
    return client.async().send(Message.valueOf(Json.write(new Requests.Txn(ops)))).thenApply(reply -> {
      if (!reply.isSuccess()) throw new StoreUnavailableException("database write failed: " + reply.getException(), reply.getException());
      return Json.read(reply.getMessage().getContent().toString(StandardCharsets.UTF_8), TxnResult.class);
    });
  }

  @Override
  public java.util.concurrent.CompletableFuture<TxnResult> txnAsync(List<Op> ops) {
    return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        RaftClientReply reply = quickClient.io().send(Message.valueOf(Json.write(new Requests.Txn(ops))));
        if (!reply.isSuccess()) throw new StoreUnavailableException("database write failed: " + reply.getException(), reply.getException());
        return Json.read(reply.getMessage().getContent().toString(StandardCharsets.UTF_8), TxnResult.class);
      } catch (IOException e) {
        throw new StoreUnavailableException("database write outcome unknown: " + rootMessage(e), e);
      }
    }, quickPool);
  }

  private RaftClientReply await(java.util.concurrent.CompletableFuture<RaftClientReply> f, String what) {
    try {
      RaftClientReply reply = f.get(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
      if (!reply.isSuccess()) {
        throw new StoreUnavailableException("database " + what + " failed: " + reply.getException(), reply.getException());
      }
      return reply;
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new StoreUnavailableException("database " + what + " timed out after " + config.requestTimeout().toMillis()
          + " ms (no leader or no quorum?)", e);
    } catch (ExecutionException e) {
      throw new StoreUnavailableException("database " + what + " failed: " + rootMessage(e), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException("interrupted", e);
    }
  }

  @Override
  public void watch(Consumer<List<Change>> listener) { sm().watch(listener); }

  /**
   * Changes the Raft group's membership (operator add/remove server): the first {@link StoreConfig#MAX_VOTERS} peers
   * vote, the rest are listeners. Blocks until new peers have caught up and the new configuration is committed.
   */
  public void setMembers(List<StoreConfig.Peer> peers) throws IOException {
    List<RaftPeer> voters = new ArrayList<>();
    List<RaftPeer> listeners = new ArrayList<>();
    for (int i = 0; i < peers.size(); i++) {
      StoreConfig.Peer p = peers.get(i);
      RaftPeer rp = RaftPeer.newBuilder().setId(p.id()).setAddress(p.address())
          .setStartupRole(i < StoreConfig.MAX_VOTERS ? RaftPeerRole.FOLLOWER : RaftPeerRole.LISTENER).build();
      (i < StoreConfig.MAX_VOTERS ? voters : listeners).add(rp);
    }
    RaftClientReply reply = client.admin().setConfiguration(voters, listeners);
    if (!reply.isSuccess()) throw new IOException("membership change refused: " + reply.getException());
  }

  /** This replica's idea of the leader, or empty while there is none. */
  public Optional<String> leaderId() {
    try {
      var division = server.getDivision(group.getGroupId());
      var info = division.getInfo();
      if (info.isLeader()) return Optional.of(config.serverId());
      var leader = division.getInfo().getLeaderId();
      return Optional.ofNullable(leader).map(RaftPeerId::toString);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  public boolean isLeader() { return leaderId().map(config.serverId()::equals).orElse(false); }

  public long lastAppliedIndex() {
    var ti = sm().getLastAppliedTermIndex();
    return ti == null ? -1 : ti.getIndex();
  }

  /** Forces a snapshot now (tests, and an operator before a backup). */
  public long snapshot() throws IOException { return sm().takeSnapshot(); }

  @Override
  public void close() {
    quickPool.shutdownNow();
    try {
      if (quickClient != null) quickClient.close();
      if (client != null) client.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    try {
      if (server != null) server.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }
}
