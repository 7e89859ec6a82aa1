package dev.understudy.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.TimeDuration;

/** The cluster database replica of one agent: a Ratis server plus a client to reach the leader. */
public final class RaftStore implements Store {
  static {
    RaftSetup.smallerNettyPools();
    RaftSetup.pooledAsyncSteps();
  }

  /** See {@link RaftSetup#smallerNettyPools}. */
  public static void smallerNettyPools() { RaftSetup.smallerNettyPools(); }

  /** See {@link RaftSetup#pooledAsyncSteps}. */
  public static void pooledAsyncSteps() { RaftSetup.pooledAsyncSteps(); }

  private final StoreConfig config;
  private volatile KvStateMachine machine = new KvStateMachine();
  private final RaftGroup group;
  private volatile RaftServer server;
  /**
   * The clients, built for the leader this replica knows of, and rebuilt when it learns of another. Ratis' own client
   * keeps retrying a dead leader (and, being ordered, holds every later request behind it) for seconds; a follower's
   * lease renewals stuck that way fenced it after the leader was killed (found by LocalClusterTest under load).
   */
  private volatile Clients clients;
  private final Object clientsLock = new Object();
  /**
   * Lease renewals go through their own client on the blocking API with a short timeout: each renewal is independent,
   * so one stuck on a frozen leader neither delays the next nor queues behind other requests. The pool has no queue:
   * a renewal that cannot start now is refused at once (a queued one would be counted from when it was queued).
   */
  /** Where pipelined writes complete (see txnPipelined). One thread keeps their callbacks in order. */
  private final java.util.concurrent.ExecutorService callbacks = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "db-callbacks");
    t.setDaemon(true);
    return t;
  });
  private final java.util.concurrent.ExecutorService quickPool = new java.util.concurrent.ThreadPoolExecutor(QUICK_THREADS,
      QUICK_THREADS, 30, TimeUnit.SECONDS, new java.util.concurrent.SynchronousQueue<>(), r -> {
        Thread t = new Thread(r, "store-quick");
        t.setDaemon(true);
        return t;
      });
  private static final int QUICK_THREADS = 8;
  private final java.util.concurrent.ScheduledExecutorService closer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "store-client-closer");
    t.setDaemon(true);
    return t;
  });

  /** The main client (reads, writes, membership) and the quick one (lease renewals), aimed at {@code leader}. */
  private record Clients(String leader, RaftClient main, RaftClient quick) {
    void close() {
      for (RaftClient c : new RaftClient[] {main, quick}) {
        try {
          c.close();
        } catch (IOException | RuntimeException ignored) {
          // closing anyway
        }
      }
    }
  }

  private RaftStore(StoreConfig config) {
    this.config = config;
    this.group = RaftSetup.group(config);
  }

  /** Starts the replica: FORMAT on an empty data directory, RECOVER when it already holds one. */
  public static RaftStore start(StoreConfig config) throws IOException { return start(config, false); }

  /**
   * With {@code joining}, a server being added to a running group starts with no configuration and waits for the
   * leader to bring it in. Started as a voter of a group that does not list it yet, it would call an election, be told
   * it is no member, and shut its replica down (Ratis closes a server that is not in the configuration).
   */
  public static RaftStore start(StoreConfig config, boolean joining) throws IOException {
    RaftStore s = new RaftStore(config);
    RaftProperties props = RaftSetup.properties(config);
    Path raftDir = config.dataDir().resolve("raft");
    Files.createDirectories(raftDir);
    Path groupDir = raftDir.resolve(s.group.getGroupId().getUuid().toString());
    boolean existing = Files.isDirectory(groupDir);
    if (existing) RaftSetup.checkNotDamaged(groupDir);
    try {
      s.server = RaftServer.newBuilder()
          .setServerId(RaftPeerId.valueOf(config.serverId()))
          .setGroup(joining && !existingOnDisk(config, s.group) ? RaftGroup.valueOf(s.group.getGroupId()) : s.group)
          .setProperties(props)
          .setParameters(RaftSetup.parameters(config))
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
        throw new StoreCorruptedException("cannot open the database replica in " + groupDir + ": " + RaftSetup.rootMessage(e)
            + ". The data directory is damaged or from another cluster: restore it, or remove it so this server"
            + " rejoins as an empty replica and copies the database from the others.", e);
      }
      throw e;
    }
    s.clients = s.buildClients(null);
    return s;
  }

  KvStateMachine sm() { return machine; }

  private static boolean existingOnDisk(StoreConfig config, RaftGroup group) {
    return Files.isDirectory(config.dataDir().resolve("raft").resolve(group.getGroupId().getUuid().toString()));
  }

  /** Whether this data directory already holds a replica of the configured group. */
  public static boolean hasReplica(StoreConfig config) { return existingOnDisk(config, RaftSetup.group(config)); }

  private Clients buildClients(String leader) {
    RaftProperties props = RaftSetup.properties(config);
    RaftProperties quick = RaftSetup.properties(config);
    // a renewal is worth nothing once older than the lease's slack: one short try, one retry
    RaftClientConfigKeys.Rpc.setRequestTimeout(quick, TimeDuration.valueOf(
        Math.max(200, config.electionTimeoutMax().toMillis()), TimeUnit.MILLISECONDS));
    return new Clients(leader,
        client(props, leader, RetryPolicies.retryUpToMaximumCountWithFixedSleep(Integer.MAX_VALUE, TimeDuration.valueOf(50, TimeUnit.MILLISECONDS))),
        client(quick, leader, RetryPolicies.retryUpToMaximumCountWithFixedSleep(1, TimeDuration.valueOf(20, TimeUnit.MILLISECONDS))));
  }

  private RaftClient client(RaftProperties p, String leader, org.apache.ratis.retry.RetryPolicy retry) {
    var b = RaftClient.newBuilder().setProperties(p).setParameters(RaftSetup.parameters(config)).setRaftGroup(group).setClientId(ClientId.randomId()).setRetryPolicy(retry);
    if (leader != null) b.setLeaderId(RaftPeerId.valueOf(leader));
    return b.build();
  }

  /** The clients for the leader this replica knows now; the ones they replace are closed a while later. */
  private Clients clients() {
    Clients c = clients;
    String leader = leaderId().orElse(null);
    if (leader == null || leader.equals(c.leader())) return c;
    synchronized (clientsLock) {
      c = clients;
      if (leader.equals(c.leader())) return c;
      Clients fresh = buildClients(leader);
      clients = fresh;
      Clients old = c;
      // requests still in flight on the old clients finish or time out first (await() bounds them)
      closer.schedule(old::close, 30, TimeUnit.SECONDS);
      return fresh;
    }
  }



  @Override
  public Optional<Entry> get(String key) {
    return query(new Requests.Query(key, null)).stream().findFirst();
  }

  @Override
  public List<Entry> list(String prefix) {
    return query(new Requests.Query(null, prefix));
  }

  /**
   * A linearizable read. Reads change nothing, so a quick refusal (a leader not ready after an election or during a
   * membership change answers "no read index") is retried until the request timeout, instead of failing the caller.
   */
  private List<Entry> query(Requests.Query q) {
    long deadline = System.nanoTime() + config.requestTimeout().toNanos();
    // One try lasts at most two election timeouts, then the read goes again on the client for the leader this replica
    // knows by then: a read sent to a leader that had just died otherwise waited out the whole request timeout (3 s),
    // and an operator's GET right after the leader's server was killed answered 503 (seen in the demo, 1 run in 3).
    long perTryMs = Math.max(200, config.electionTimeoutMax().toMillis() * 2);
    while (true) {
      try {
        long leftMs = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
        RaftClientReply reply = await(clients().main().async().sendReadOnly(Message.valueOf(Json.write(q))), "read",
            Math.min(perTryMs, leftMs));
        return Json.read(reply.getMessage().getContent().toString(StandardCharsets.UTF_8), Requests.QueryAnswer.class)
            .entries();
      } catch (StoreUnavailableException e) {
        if (System.nanoTime() > deadline - 100_000_000L || Thread.currentThread().isInterrupted()) throw e;
        try {
          Thread.sleep(50);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  @Override
  public Optional<Entry> localGet(String key) { return sm().state().get(key); }

  @Override
  public List<Entry> localList(String prefix) { return sm().state().list(prefix); }

  /** A write in the cluster's format, as this replica last applied it ({@link dev.understudy.model.Formats}). */
  private Message message(Requests.Txn t) { return Message.valueOf(Json.write(t.in(sm().writeFormat()))); }

  /** Why this replica stopped applying (an entry or snapshot in a newer format than this build reads), else empty. */
  public Optional<String> formatRefusal(String build) { return sm().refusal(build); }

  @Override
  public TxnResult txn(List<Op> ops) {
    RaftClientReply reply = await(clients().main().async().send(message(new Requests.Txn(ops))), "write");
    return Json.read(reply.getMessage().getContent().toString(StandardCharsets.UTF_8), TxnResult.class);
  }

  /**
   * A write on the ordered asynchronous client, without waiting: many may be in flight, so the leader batches them
   * (what sustained throughput needs; the agent itself writes a few times a second).
   */
  public java.util.concurrent.CompletableFuture<TxnResult> txnPipelined(List<Op> ops) {
    // Completed on a thread of our own, never on Ratis' reply thread: that thread holds the client's window lock, and
    // a caller's callback that writes again (an event after a commit) blocks there on the client's in-flight limit,
    // which only replies under that same lock release. A 1,000-app failover deadlocked its agent so.
    return pipelined(new Requests.Txn(ops), TxnResult.class);
  }

  private <T> java.util.concurrent.CompletableFuture<T> pipelined(Requests.Txn txn, Class<T> answer) {
    return clients().main().async().send(message(txn)).thenApplyAsync(reply -> {
      if (!reply.isSuccess()) throw new StoreUnavailableException("database write failed: " + reply.getException(), reply.getException());
      return Json.read(reply.getMessage().getContent().toString(StandardCharsets.UTF_8), answer);
    }, callbacks);
  }

  /**
   * Independent transactions in one log entry, pipelined like {@link #txnPipelined}: each is applied or refused on
   * its own (a conflict in one leaves the others alone), and the answer lists their outcomes in order.
   */
  public java.util.concurrent.CompletableFuture<List<TxnResult>> txnBatch(List<List<Op>> txns) {
    return pipelined(new Requests.Txn(null, txns), Requests.BatchAnswer.class).thenApply(Requests.BatchAnswer::results);
  }

  private final ClientId hereClient = ClientId.randomId();
  private final java.util.concurrent.atomic.AtomicLong hereCalls = new java.util.concurrent.atomic.AtomicLong();

  /**
   * {@link #txnBatch}, submitted to this replica's own Raft server instead of through a client: the leader's agent
   * writing its lease batch skips a gRPC round trip over loopback five times a second. Where this replica does not
   * lead, the future fails (the reply carries Ratis' NotLeaderException); nothing retries it.
   */
  public java.util.concurrent.CompletableFuture<List<TxnResult>> txnBatchHere(List<List<Op>> txns) {
    var request = org.apache.ratis.protocol.RaftClientRequest.newBuilder()
        .setClientId(hereClient)
        .setServerId(RaftPeerId.valueOf(config.serverId()))
        .setGroupId(group.getGroupId())
        .setCallId(hereCalls.incrementAndGet())
        .setMessage(message(new Requests.Txn(null, txns)))
        .setType(org.apache.ratis.protocol.RaftClientRequest.writeRequestType())
        .build();
    try {
      return server.submitClientRequestAsync(request).thenApplyAsync(reply -> {
        if (!reply.isSuccess()) throw new StoreUnavailableException("database write failed: " + reply.getException(), reply.getException());
        return Json.read(reply.getMessage().getContent().toString(StandardCharsets.UTF_8), Requests.BatchAnswer.class).results();
      }, callbacks);
    } catch (IOException | RuntimeException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(new StoreUnavailableException("database write failed: " + e, e));
    }
  }

  @Override
  public java.util.concurrent.CompletableFuture<TxnResult> txnAsync(List<Op> ops) {
    RaftClient quick = clients().quick();
    try {
      return java.util.concurrent.CompletableFuture.supplyAsync(() -> sendFollowingTheLeader(quick, ops), quickPool);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      throw new StoreUnavailableException("database busy: every quick request slot is waiting on the leader", e);
    }
  }

  /**
   * A quick request that failed on the leader it was aimed at is sent again at once to the leader this replica knows
   * now, if that changed (a leader paused or killed: the rest elect another within an election timeout). Waiting
   * for the next renewal round instead cost up to a round, out of a lease slack of 650 ms at defaults; chaos flagged
   * healthy servers fenced by a 0.5 s pause of the Raft leader. Sending the same write twice is harmless: a renewal
   * is the same record, and its lease still counts from the first send.
   */
  private TxnResult sendFollowingTheLeader(RaftClient first, List<Op> ops) {
    long deadline = System.nanoTime() + config.electionTimeoutMax().toNanos() * 2;
    RaftClient c = first;
    while (true) {
      try {
        return send(c, ops);
      } catch (StoreUnavailableException e) {
        RaftClient now = clients().quick();
        while (now == c && System.nanoTime() < deadline) { // not told of another leader yet: an election takes a moment
          try {
            Thread.sleep(20);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw e;
          }
          now = clients().quick();
        }
        if (now == c) throw e;
        c = now;
      }
    }
  }

  private TxnResult send(RaftClient quick, List<Op> ops) {
    try {
      RaftClientReply reply = quick.io().send(message(new Requests.Txn(ops)));
      if (!reply.isSuccess()) throw new StoreUnavailableException("database write failed: " + reply.getException(), reply.getException());
      return Json.read(reply.getMessage().getContent().toString(StandardCharsets.UTF_8), TxnResult.class);
    } catch (IOException e) {
      throw new StoreUnavailableException("database write outcome unknown: " + RaftSetup.rootMessage(e), e);
    }
  }

  private RaftClientReply await(java.util.concurrent.CompletableFuture<RaftClientReply> f, String what) {
    return await(f, what, config.requestTimeout().toMillis());
  }

  private RaftClientReply await(java.util.concurrent.CompletableFuture<RaftClientReply> f, String what, long timeoutMs) {
    try {
      RaftClientReply reply = f.get(timeoutMs, TimeUnit.MILLISECONDS);
      if (!reply.isSuccess()) {
        throw new StoreUnavailableException("database " + what + " failed: " + reply.getException(), reply.getException());
      }
      return reply;
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new StoreUnavailableException("database " + what + " timed out after " + timeoutMs
          + " ms (no leader or no quorum?)", e);
    } catch (ExecutionException e) {
      throw new StoreUnavailableException("database " + what + " failed: " + RaftSetup.rootMessage(e), e);
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
    RaftClientReply reply = clients().main().admin().setConfiguration(voters, listeners);
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
    } catch (IOException | RuntimeException e) { // closed, or being rebuilt
      return Optional.empty();
    }
  }

  public boolean isLeader() { return leaderId().map(config.serverId()::equals).orElse(false); }

  /**
   * Leads and has committed an entry of its own term, so it takes writes: a leader just elected refuses them
   * (LeaderNotReadyException) until then, one round trip to its followers later.
   */
  public boolean isLeaderReady() {
    try {
      return server.getDivision(group.getGroupId()).getInfo().isLeaderReady();
    } catch (IOException | RuntimeException e) { // closed, or being rebuilt
      return false;
    }
  }

  /** What this replica knows of the Raft log (see {@link ReplicaInfo}). */
  public ReplicaInfo replicaInfo() { return ReplicaInfo.of(server, group, leaderId().orElse(null), lastAppliedIndex()); }

  /**
   * Asks the leader to step down; a new election follows (possibly won by the same server). The repair for a follower
   * the leader believes further along than it is (its match index for the follower beyond the follower's last entry,
   * seen after a follower was killed and restarted under load): a Ratis leader never lowers a match index, so it keeps
   * sending entries the follower cannot attach, and the follower never catches up. A new leader term starts every
   * follower's match index afresh. Costs one election (writes pause for an election timeout; leases outlast it).
   */
  public void askLeaderToStepDown() throws IOException {
    transferLeadership(null, Math.max(1000, 3 * config.electionTimeoutMax().toMillis()));
  }

  /** Hands leadership to {@code to} (null: a step-down), giving up after timeoutMillis; no write lands until then. */
  public void transferLeadership(String to, long timeoutMillis) throws IOException {
    var reply = clients().main().admin().transferLeadership(to == null ? null : RaftPeerId.valueOf(to), timeoutMillis);
    if (!reply.isSuccess()) throw new IOException("the leader did not step down: " + reply.getException());
  }

  /**
   * Empties this replica's log and state so that the leader sends it everything again, keeping its term and vote
   * (raft-meta) and its last configuration: Raft's voting safety rests on those, never on a log a follower must give up.
   *
   * <p>The repair for a follower whose first log entry diverges from the leader's. Ratis (3.3) lets a heartbeat that
   * carries no previous entry (the leader backed off to index 0) raise a follower's commit index to 0 over its own,
   * divergent, first entry; from then on the follower refuses the leader's entry 0 ("already committed") and the
   * leader's entry 1 (previous does not match), forever. Seen at cluster formation under load, when two servers were
   * leaders in turn before either replicated its first entry. Dropping such a log loses nothing: by the Log Matching
   * property every entry after a divergent first entry diverges too, and no divergent entry can be committed (the
   * leader holds every committed one). The caller checks the divergence against the leader's first entry, and that the
   * leader counts nothing from this replica (its match index for it is -1): a leader never lowers a follower's match
   * index, so it could not bring back a replica that had lost entries it acknowledged.
   */
  public synchronized void rebuildReplica() throws IOException {
    Path groupDir = config.dataDir().resolve("raft").resolve(group.getGroupId().getUuid().toString());
    clients.close();
    server.close();
    try (var files = Files.list(groupDir.resolve("current"))) {
      for (Path f : files.filter(f -> f.getFileName().toString().startsWith("log_")).toList()) Files.delete(f);
    }
    Path sm = groupDir.resolve("sm");
    if (Files.isDirectory(sm)) {
      try (var files = Files.list(sm)) {
        for (Path f : files.toList()) Files.delete(f);
      }
    }
    machine = machine.fresh();
    server = RaftServer.newBuilder()
        .setServerId(RaftPeerId.valueOf(config.serverId()))
        .setGroup(group)
        .setProperties(RaftSetup.properties(config))
        .setParameters(RaftSetup.parameters(config))
        .setStateMachine(machine)
        .setOption(RaftStorage.StartupOption.RECOVER)
        .build();
    server.start();
    synchronized (clientsLock) {
      clients = buildClients(null);
    }
  }

  /**
   * This replica applied entries the log later truncated (see KvStateMachine#truncate): its state may disagree with its
   * peers'. It must start nothing until rebuilt.
   */
  public boolean diverged() { return sm().divergedAt() >= 0; }

  public long lastAppliedIndex() {
    var ti = sm().getLastAppliedTermIndex();
    return ti == null ? -1 : ti.getIndex();
  }

  /** Forces a snapshot now (tests, and an operator before a backup). */
  public long snapshot() throws IOException { return sm().takeSnapshot(); }

  @Override
  public void close() {
    quickPool.shutdownNow();
    callbacks.shutdownNow();
    closer.shutdownNow();
    if (clients != null) clients.close();
    try {
      if (server != null) server.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }
}
