package dev.understudy.store;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The deterministic key/value state every replica applies the log to. No I/O, no clock: the version
 * of a write is the log index that applied it, so every replica computes the same versions.
 */
public final class KvState {
  private final NavigableMap<String, Entry> map = new TreeMap<>();

  public synchronized Optional<Entry> get(String key) { return Optional.ofNullable(map.get(key)); }

  public synchronized List<Entry> list(String prefix) {
    var out = new ArrayList<Entry>();
    for (var e : map.tailMap(prefix, true).entrySet()) {
      if (!e.getKey().startsWith(prefix)) break;
      out.add(e.getValue());
    }
    return out;
  }

  /** Applies the ops at log index {@code index}; the changes go to {@code changes} (untouched on conflict). */
  public synchronized TxnResult apply(List<Op> ops, long index, List<Change> changes) {
    for (Op op : ops) {
      if (op.expect() == null) continue;
      Entry cur = map.get(op.key());
      long actual = cur == null ? 0 : cur.version();
      if (actual != op.expect()) return TxnResult.conflict(op.key(), op.expect(), actual);
    }
    for (Op op : ops) {
      Entry cur = map.get(op.key());
      switch (op.op()) {
        case PUT -> {
          map.put(op.key(), new Entry(op.key(), op.value(), index));
          changes.add(new Change(op.key(), cur == null ? null : cur.value(), op.value(), index));
        }
        case DELETE -> {
          if (cur != null) {
            map.remove(op.key());
            changes.add(new Change(op.key(), cur.value(), null, index));
          }
        }
        case CHECK -> { }
      }
    }
    return TxnResult.applied(index);
  }

  public synchronized Map<String, Entry> copy() { return Collections.unmodifiableMap(new TreeMap<>(map)); }

  public synchronized void replaceAll(Map<String, Entry> entries) {
    map.clear();
    map.putAll(entries);
  }

  public synchronized int size() { return map.size(); }
}
