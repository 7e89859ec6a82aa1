package dev.understudy.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The one table the suite ends with: each figure, its target where it has one, and whether it was met. */
final class Targets {
  private final List<Map<String, Object>> rows = new ArrayList<>();

  void atMost(String what, double value, double target) { add(what, value, "<= " + fmt(target), value <= target); }

  void atLeast(String what, double value, double target) { add(what, value, ">= " + fmt(target), value >= target); }

  void report(String what, double value) { add(what, value, "", null); }

  void skipped(String what, String why) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("what", what);
    r.put("skipped", why);
    rows.add(r);
  }

  private void add(String what, double value, String target, Boolean met) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("what", what);
    r.put("value", Double.isNaN(value) ? null : value);
    r.put("target", target);
    r.put("met", Double.isNaN(value) ? null : met);
    rows.add(r);
  }

  List<Map<String, Object>> rows() { return rows; }

  void print() {
    System.out.printf("%-48s %12s %10s  %s%n", "figure", "measured", "target", "");
    for (Map<String, Object> r : rows) {
      if (r.containsKey("skipped")) {
        System.out.printf("%-48s %12s %10s  %s%n", r.get("what"), "-", "", "skipped: " + r.get("skipped"));
        continue;
      }
      Object v = r.get("value");
      Object met = r.get("met");
      System.out.printf("%-48s %12s %10s  %s%n", r.get("what"), v == null ? "n/a" : fmt((Double) v), r.get("target"),
          met == null ? "" : (Boolean) met ? "met" : "MISSED");
    }
  }

  static String fmt(double v) {
    return Math.abs(v) >= 100 || v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
  }
}
