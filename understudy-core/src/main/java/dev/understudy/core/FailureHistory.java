package dev.understudy.core;

import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.decide.FailurePolicy;
import dev.understudy.decide.Settings;
import dev.understudy.model.App;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The failures of each app on this server (crashes, failed or timed-out starts, health-check kills), on the node's
 * monotonic clock. They count until they expire ({@code restartWindow}) or an operator resets the app; never because a
 * commit happened (a host change used to clear them, and an app failing everywhere bounced between servers without end).
 */
final class FailureHistory {
  private final Settings settings;
  private final Consumer<String> log;
  private final Map<String, List<Long>> failures = new TreeMap<>();
  /** The {@code resets} of each app when its failures here were last checked against it. */
  private final Map<String, Long> resetsSeen = new HashMap<>();

  FailureHistory(Settings settings, Consumer<String> log) {
    this.settings = settings;
    this.log = log;
  }

  void failed(String tag, long now) { failures.computeIfAbsent(tag, t -> new ArrayList<>()).add(now); }

  /** Forgets expired failures, those of removed apps, and those of apps an operator reset since the last round. */
  void forget(ClusterSnapshot snap, long now) {
    long window = settings.restartWindow().toNanos();
    for (var it = failures.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      App a = snap.apps().get(e.getKey());
      Long seen = resetsSeen.get(e.getKey());
      if (a == null || (seen != null && seen != a.resets())) {
        it.remove();
        if (a != null) log.accept("failures of " + e.getKey() + " here forgotten (reset by an operator)");
      } else {
        e.getValue().removeIf(t -> now - t > window);
      }
    }
    for (App a : snap.apps().values()) resetsSeen.put(a.tag(), a.resets());
    resetsSeen.keySet().retainAll(snap.apps().keySet());
  }

  Map<String, List<Long>> copy() {
    Map<String, List<Long>> out = new TreeMap<>();
    failures.forEach((k, v) -> out.put(k, List.copyOf(v)));
    return out;
  }

  /** What this server publishes as lacking for each app: missing requirements, and being passed over after failures. */
  Map<String, List<String>> readiness(Map<String, List<String>> unmet, long now) {
    Map<String, List<String>> ready = new TreeMap<>(unmet);
    failures.forEach((tag, f) -> {
      if (FailurePolicy.passedOver(f, settings, now)) {
        List<String> l = new ArrayList<>(ready.getOrDefault(tag, List.of()));
        l.add(FailurePolicy.reason(FailurePolicy.counted(f, settings, now), settings));
        ready.put(tag, List.copyOf(l));
      }
    });
    return ready;
  }
}
