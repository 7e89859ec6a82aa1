package dev.understudy.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A single-replica store in memory, applying the same {@link KvState} rules as the Raft one. For tests and the
 * deterministic simulation; watchers are called synchronously, in order.
 */
public final class InMemoryStore implements Store {
  private final KvState state = new KvState();
  private final List<Consumer<List<Change>>> watchers = new CopyOnWriteArrayList<>();
  private long index;
  private volatile boolean available = true;

  @Override
  public Optional<Entry> get(String key) {
    checkAvailable();
    return state.get(key);
  }

  @Override
  public List<Entry> list(String prefix) {
    checkAvailable();
    return state.list(prefix);
  }

  @Override
  public Optional<Entry> localGet(String key) { return state.get(key); }

  @Override
  public List<Entry> localList(String prefix) { return state.list(prefix); }

  @Override
  public synchronized TxnResult txn(List<Op> ops) {
    checkAvailable();
    List<Change> changes = new ArrayList<>();
    TxnResult r = state.apply(ops, ++index, changes);
    if (!changes.isEmpty()) watchers.forEach(w -> w.accept(List.copyOf(changes)));
    return r;
  }

  @Override
  public java.util.concurrent.CompletableFuture<TxnResult> txnAsync(List<Op> ops) {
    try {
      return java.util.concurrent.CompletableFuture.completedFuture(txn(ops));
    } catch (StoreUnavailableException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public void watch(Consumer<List<Change>> listener) { watchers.add(listener); }

  /** Simulates losing quorum: every call fails with an unknown outcome. */
  public void setAvailable(boolean a) { available = a; }

  private void checkAvailable() {
    if (!available) throw new StoreUnavailableException("no quorum (simulated)", null);
  }

  @Override
  public void close() {}
}
