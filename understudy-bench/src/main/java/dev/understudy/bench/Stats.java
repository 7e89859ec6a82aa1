package dev.understudy.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Percentiles of a sample, in the unit it was recorded in. */
public final class Stats {
  private final List<Double> values = new ArrayList<>();

  public synchronized void add(double v) { values.add(v); }

  public synchronized int count() { return values.size(); }

  public synchronized double percentile(double p) {
    if (values.isEmpty()) return Double.NaN;
    List<Double> s = new ArrayList<>(values);
    Collections.sort(s);
    int idx = (int) Math.ceil(p / 100.0 * s.size()) - 1;
    return s.get(Math.max(0, Math.min(s.size() - 1, idx)));
  }

  public synchronized List<Double> values() { return List.copyOf(values); }

  public Map<String, Object> summary() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("n", count());
    m.put("min", percentile(0));
    m.put("p50", percentile(50));
    m.put("p99", percentile(99));
    m.put("max", percentile(100));
    return m;
  }

  public String line(String unit) {
    return String.format("n=%d min=%.1f p50=%.1f p99=%.1f max=%.1f %s", count(), percentile(0), percentile(50),
        percentile(99), percentile(100), unit);
  }
}
