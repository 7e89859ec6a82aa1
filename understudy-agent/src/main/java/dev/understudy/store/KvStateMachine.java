package dev.understudy.store;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.understudy.model.Formats;
import dev.understudy.model.Keys;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;

/**
 * Ratis state machine over {@link KvState}. Applying does no I/O and reads no clock; watchers are told on
 * a single thread, in log order, after the state has changed.
 */
final class KvStateMachine extends BaseStateMachine {
  private final KvState state = new KvState();
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private final List<Consumer<List<Change>>> watchers = new CopyOnWriteArrayList<>();
  private final ExecutorService notifier = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "store-watch");
    t.setDaemon(true);
    return t;
  });

  KvState state() { return state; }

  void watch(Consumer<List<Change>> w) { watchers.add(w); }

  /** An empty state machine with this one's watchers, for a replica rebuilt from the leader. */
  KvStateMachine fresh() {
    KvStateMachine m = new KvStateMachine();
    m.watchers.addAll(watchers);
    return m;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
    super.initialize(server, groupId, raftStorage);
    storage.init(raftStorage);
    load(storage.loadLatestSnapshot());
    var lc = getLifeCycle();
    if (lc.getCurrentState() == org.apache.ratis.util.LifeCycle.State.NEW) {
      lc.transition(org.apache.ratis.util.LifeCycle.State.STARTING); // RUNNING is what pause() needs to start from
      lc.transition(org.apache.ratis.util.LifeCycle.State.RUNNING);
    }
  }

  /**
   * Set when Ratis truncates log entries this state machine has already applied. Raft never truncates a committed entry,
   * so this is a replica that applied an entry its peers did not commit (the class of Raft bug where a former leader
   * commits a stale entry of its own before truncating it): from then on its state may disagree with its peers' at the
   * same index, although the logs end up identical. Such a replica must start nothing and be rebuilt.
   */
  private volatile long divergedAt = -1;

  @Override
  public CompletableFuture<Void> truncate(long index) {
    TermIndex applied = getLastAppliedTermIndex();
    if (applied != null && index <= applied.getIndex()) {
      divergedAt = index;
      org.slf4j.LoggerFactory.getLogger(KvStateMachine.class).error("the log is truncated from index {} but this replica"
          + " already applied up to {}: its state may disagree with its peers'; it starts nothing until rebuilt", index,
          applied.getIndex());
    }
    return super.truncate(index);
  }

  /** The index from which entries this replica applied were truncated, or -1 (see {@link #truncate}). */
  long divergedAt() { return divergedAt; }

  /** Ratis pauses the state machine before installing a snapshot from the leader (a replica too far behind). */
  @Override
  public void pause() {
    var lc = getLifeCycle();
    if (lc.getCurrentState() == org.apache.ratis.util.LifeCycle.State.RUNNING) {
      lc.transition(org.apache.ratis.util.LifeCycle.State.PAUSING);
      lc.transition(org.apache.ratis.util.LifeCycle.State.PAUSED);
    }
  }

  /** Snapshots installed from the leader into this replica. */
  private final java.util.concurrent.atomic.AtomicLong installs = new java.util.concurrent.atomic.AtomicLong();

  long installs() { return installs.get(); }

  /** ...and reinitializes it from that snapshot. Without both, a follower that needed a snapshot shut down. */
  @Override
  public void reinitialize() throws IOException {
    installs.incrementAndGet();
    var before = getLastAppliedTermIndex();
    var snapshot = storage.loadLatestSnapshot();
    // logged: a reinitialization replaces the whole state, and a replica whose state later disagreed with its peers'
    // at the same index (a partition drill) left no trace of whether one had happened
    org.slf4j.LoggerFactory.getLogger(KvStateMachine.class).warn("state machine reinitialized from snapshot {} (applied was {})",
        snapshot == null ? "none" : snapshot.getTermIndex(), before);
    load(snapshot);
    var lc = getLifeCycle();
    if (lc.getCurrentState() == org.apache.ratis.util.LifeCycle.State.PAUSED) {
      lc.transition(org.apache.ratis.util.LifeCycle.State.STARTING);
      lc.transition(org.apache.ratis.util.LifeCycle.State.RUNNING);
    }
  }

  @Override
  public SimpleStateMachineStorage getStateMachineStorage() { return storage; }

  private void load(SingleFileSnapshotInfo snapshot) throws IOException {
    if (snapshot == null) return;
    File file = snapshot.getFile().getPath().toFile();
    try {
      MD5Hash expected = MD5FileUtil.readStoredMd5ForFile(file);
      MD5Hash actual = MD5FileUtil.computeMd5ForFile(file);
      if (!expected.equals(actual)) throw new IOException("checksum mismatch in " + file);
      Map<String, Entry> entries = Json.MAPPER.readValue(file, new TypeReference<TreeMap<String, Entry>>() {});
      int format = FormatRecord.format(entries.get(Keys.CLUSTER_FORMAT));
      if (format > Formats.NEWEST) {
        unreadable = new Unreadable(snapshot.getIndex(), format, true);
        return; // nothing of it applied: the agent stops, saying why
      }
      List<Change> changes = state.replaceAll(entries, snapshot.getIndex());
      setLastAppliedTermIndex(snapshot.getTermIndex());
      tell(changes);
    } catch (IOException | RuntimeException e) {
      throw new StoreCorruptedException("cannot read database snapshot " + file + ": " + e.getMessage()
          + ". The replica's data directory is damaged: restore it from a backup, or remove it so this"
          + " server rejoins as an empty replica and copies the database from the others.", e);
    }
  }

  @Override
  public long takeSnapshot() throws IOException {
    Map<String, Entry> copy;
    TermIndex last;
    synchronized (state) { // consistent pair: applied index and the map it produced
      last = getLastAppliedTermIndex();
      copy = state.copy();
    }
    if (last == null || last.getIndex() < 0) return -1;
    File file = storage.getSnapshotFile(last.getTerm(), last.getIndex());
    File tmp = new File(file.getParentFile(), file.getName() + ".tmp");
    Files.write(tmp.toPath(), Json.MAPPER.writeValueAsBytes(copy));
    Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE);
    MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
    storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), last));
    return last.getIndex();
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    String body = entry.getStateMachineLogEntry().getLogData().toString(StandardCharsets.UTF_8);
    List<Change> changes = new ArrayList<>();
    Object result;
    synchronized (state) {
      int format = formatOf(body);
      if (unreadable != null || format > Formats.NEWEST) {
        // applying nothing more: refusing what the others apply would make this replica diverge in silence
        if (unreadable == null) unreadable = new Unreadable(entry.getIndex(), format, false);
        return CompletableFuture.failedFuture(new IllegalStateException("log entry " + unreadable.index() + " is in format "
            + unreadable.format() + ", newer than this replica reads (" + Formats.OLDEST + "-" + Formats.NEWEST + ")"));
      }
      Requests.Txn txn = null;
      try {
        txn = Json.read(body, Requests.Txn.class);
      } catch (RuntimeException e) {
        // malformed: refused below, identically on every replica
      }
      if (txn == null) {
        result = TxnResult.conflict("(malformed)", -1, -1);
      } else if (txn.batch() != null) {
        List<TxnResult> results = new ArrayList<>();
        for (List<Op> ops : txn.batch()) results.add(applyOrRefuse(ops, entry.getIndex(), changes));
        result = new Requests.BatchAnswer(results);
      } else {
        result = applyOrRefuse(txn.ops(), entry.getIndex(), changes);
      }
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
    }
    tell(changes);
    return CompletableFuture.completedFuture(Message.valueOf(Json.write(result)));
  }

  /** A log entry in a format this build does not read: its index and format. Nothing after it is applied. */
  record Unreadable(long index, int format, boolean snapshot) {}

  private volatile Unreadable unreadable;

  /** Set once this replica met an entry (or a snapshot) in a format newer than it reads; null otherwise. */
  Unreadable unreadable() { return unreadable; }

  /** The format this replica's writes are in: the cluster's, as applied here (never above what this build writes). */
  int writeFormat() { return Math.min(Formats.NEWEST, FormatRecord.format(state.get(Keys.CLUSTER_FORMAT).orElse(null))); }

  java.util.Optional<String> refusal(String build) {
    Unreadable u = unreadable;
    return u == null ? java.util.Optional.empty()
        : java.util.Optional.of(Formats.cannotRead(u.format(), build, (u.snapshot() ? "its snapshot at log index " : "log entry ") + u.index()));
  }

  /** The entry's format: 1 without the field, 0 when the entry is not even JSON (refused as malformed, like any). */
  private static int formatOf(String body) {
    try {
      com.fasterxml.jackson.databind.JsonNode n = Json.MAPPER.readTree(body);
      return n == null ? 0 : n.path("format").asInt(1);
    } catch (java.io.IOException | RuntimeException e) {
      return 0;
    }
  }

  /** Watchers learn every change in log order, on one thread, whether it came in the log or in a snapshot. */
  private void tell(List<Change> changes) {
    if (changes.isEmpty() || watchers.isEmpty()) return;
    List<Change> done = List.copyOf(changes);
    notifier.execute(() -> watchers.forEach(w -> {
      try {
        w.accept(done);
      } catch (RuntimeException e) {
        org.slf4j.LoggerFactory.getLogger(KvStateMachine.class).warn("watcher failed", e);
      }
    }));
  }

  private TxnResult applyOrRefuse(List<Op> ops, long index, List<Change> changes) {
    try {
      return state.apply(ops, index, changes);
    } catch (RuntimeException e) { // a malformed transaction (a null op) is refused identically on every replica
      return TxnResult.conflict("(malformed)", -1, -1);
    }
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    try {
      Requests.Query q = Json.read(request.getContent().toString(StandardCharsets.UTF_8), Requests.Query.class);
      List<Entry> out = q.get() != null ? state.get(q.get()).map(List::of).orElse(List.of()) : state.list(q.prefix());
      return CompletableFuture.completedFuture(Message.valueOf(Json.write(new Requests.QueryAnswer(out))));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public void close() throws IOException {
    notifier.shutdownNow();
    super.close();
  }
}
