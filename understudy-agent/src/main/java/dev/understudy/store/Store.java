package dev.understudy.store;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** The cluster database as the rest of the agent sees it. */
public interface Store extends AutoCloseable {
  /** Linearizable read through the leader. */
  Optional<Entry> get(String key);

  /** Linearizable list of every key with the prefix, in key order. */
  List<Entry> list(String prefix);

  /** Read of this replica's applied state: may lag, never blocks on the network. For display and watches. */
  Optional<Entry> localGet(String key);

  List<Entry> localList(String prefix);

  /** All or nothing. */
  TxnResult txn(List<Op> ops);

  /**
   * The same, without waiting: the future fails with {@link StoreUnavailableException} when the outcome is unknown.
   * Several may be in flight; they are applied in the order they reach the leader.
   */
  java.util.concurrent.CompletableFuture<TxnResult> txnAsync(List<Op> ops);

  /** Called, in log order and on one thread, with every change this replica applies. */
  void watch(Consumer<List<Change>> listener);

  default TxnResult put(String key, String value) { return txn(List.of(Op.put(key, value))); }

  default TxnResult cas(String key, String value, long expectVersion) {
    return txn(List.of(Op.put(key, value, expectVersion)));
  }

  @Override
  void close();
}
