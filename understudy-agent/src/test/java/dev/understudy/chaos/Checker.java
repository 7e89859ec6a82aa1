package dev.understudy.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.testing.History;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** Judges a chaos run: S1 one host, L1 comes back, D1 no lost update, F1 no false failover, no orphans. */
final class Checker {
  static final long L1_BOUND_MS = 20_000;

  final List<String> violations = new ArrayList<>();
  final List<String> notes = new ArrayList<>();

  void checkS1(Path history) throws IOException {
    List<History.Instance> all = History.instances(history);
    notes.add("instances recorded: " + all.size());
    for (int i = 0; i < all.size(); i++) {
      for (int j = i + 1; j < all.size(); j++) {
        History.Instance a = all.get(i);
        History.Instance b = all.get(j);
        if (a.tag().equals(b.tag()) && a.first() <= b.last() && b.first() <= a.last()) {
          violations.add("S1 one host: " + a + " overlaps " + b + " by "
              + (Math.min(a.last(), b.last()) - Math.max(a.first(), b.first())) / 1_000_000 + " ms");
        }
      }
    }
  }

  /** Gaps in an app's life longer than the bound, outside an operator's unload, while a majority was healthy. */
  void checkL1(Path history, List<Fault> faults, long t0Millis) throws IOException {
    Map<String, List<Long>> times = new java.util.TreeMap<>();
    for (String line : Files.readAllLines(history)) {
      String[] f = line.trim().split(" ");
      if (f.length == 6) times.computeIfAbsent(f[3], k -> new ArrayList<>()).add(Long.parseLong(f[4]) / 1_000_000);
    }
    for (var e : times.entrySet()) {
      List<Long> ts = e.getValue();
      ts.sort(Comparator.naturalOrder());
      long maxGap = 0;
      for (int i = 1; i < ts.size(); i++) {
        long gap = ts.get(i) - ts.get(i - 1);
        maxGap = Math.max(maxGap, gap);
        if (gap > L1_BOUND_MS && !unloadedDuring(e.getKey(), faults, ts.get(i - 1) - t0Millis, ts.get(i) - t0Millis)) {
          violations.add("L1 comes back: " + e.getKey() + " was down " + gap + " ms from +" + (ts.get(i - 1) - t0Millis) + " ms");
        }
      }
      notes.add(e.getKey() + ": longest gap " + maxGap + " ms");
    }
  }

  private static boolean unloadedDuring(String tag, List<Fault> faults, long from, long to) {
    return faults.stream().anyMatch(f -> f.kind().equals("OP-UNLOAD") && tag.equals(f.detail()) && f.startMs() <= to + 1000
        && f.startMs() >= from - L1_BOUND_MS);
  }

  void checkFinal(JsonNode apps, List<String> tags) {
    for (String tag : tags) {
      JsonNode a = null;
      for (JsonNode n : apps) if (n.path("tag").asText().equals(tag)) a = n;
      if (a == null) {
        violations.add("L1: " + tag + " is missing at the end");
      } else if (!"RUNNING".equals(a.path("state").asText()) && !"FAILBACK_PENDING".equals(a.path("state").asText())) {
        violations.add("L1: " + tag + " is " + a.path("state").asText() + " after every fault healed");
      }
    }
  }

  void checkD1(JsonNode apps, Map<String, String> acked) {
    for (var e : acked.entrySet()) {
      String tag = e.getKey().substring(0, e.getKey().indexOf('/'));
      String key = e.getKey().substring(tag.length() + 1);
      JsonNode a = null;
      for (JsonNode n : apps) if (n.path("tag").asText().equals(tag)) a = n;
      String got = a == null ? null : a.path("attributes").path(key).asText(null);
      if (!e.getValue().equals(got)) violations.add("D1 no lost update: " + e.getKey() + "=" + e.getValue() + " acknowledged, now " + got);
    }
    notes.add("acknowledged attribute writes checked: " + acked.size());
  }

  /** A FAILOVER away from X needs X killed or paused shortly before. */
  void checkF1(List<JsonNode> events, List<Fault> faults, long t0Millis) {
    int failovers = 0;
    for (JsonNode e : events) {
      if (!"FAILOVER".equals(e.path("kind").asText())) continue;
      failovers++;
      String failed = e.path("details").path("failed").asText();
      long at = e.path("timeMillis").asLong() - t0Millis;
      boolean explained = faults.stream().anyMatch(f -> failed.equals(f.server())
          && (f.kind().startsWith("KILL9") || f.kind().equals("SIGSTOP"))
          && f.startMs() <= at && at <= f.endMs() + 15_000);
      if (!explained) violations.add("F1 no false failover: " + e.path("message").asText() + " at +" + at + " ms with no kill or pause of " + failed);
    }
    notes.add("failovers observed: " + failovers);
  }

  void checkOrphans(Path history) throws IOException {
    String needle = history.toString();
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
        try {
          String cmd = Files.readString(p.resolve("cmdline")).replace('\0', ' ');
          String stat = Files.readString(p.resolve("stat"));
          boolean zombie = stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
          if (cmd.contains(needle) && !zombie) violations.add("orphan process left running: pid " + p.getFileName() + " " + cmd);
        } catch (IOException ignored) {
          // exited meanwhile
        }
      }
    }
  }
}
