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

  /**
   * Replaces the whole state (a snapshot installed from the leader) and returns what that changed, as if applied:
   * watchers (the lease observer above all) must learn of a renewal or a revocation that came in a snapshot as they do
   * of one that came in the log. {@code index} is the snapshot's last index (the version given to deletions).
   */
  public synchronized List<Change> replaceAll(Map<String, Entry> entries, long index) {
    List<Change> changes = diff(map, entries, index);
    map.clear();
    map.putAll(entries);
    return changes;
  }

  /** What turns {@code before} into {@code after}: every key added, rewritten (another version) or removed. */
  public static List<Change> diff(Map<String, Entry> before, Map<String, Entry> after, long index) {
    List<Change> out = new ArrayList<>();
    for (Entry e : after.values()) {
      Entry old = before.get(e.key());
      if (old == null || old.version() != e.version()) out.add(new Change(e.key(), old == null ? null : old.value(), e.value(), e.version()));
    }
    for (Entry old : before.values()) {
      if (!after.containsKey(old.key())) out.add(new Change(old.key(), old.value(), null, index));
    }
    return out;
  }

  public synchronized int size() { return map.size(); }
}
