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

  /**
   * Gaps in an app's life longer than the bound, outside an operator's unload, while a majority was healthy. A gap in
   * which every server that could run the app had failed it the restart limit's times (APP_FAILED, or a host DOWN with
   * NO_QUALIFIED_BACKUP naming those failures) is the crash-loop rule at work, not a lost app: counted apart.
   */
  void checkL1(Path history, List<Fault> faults, long t0Millis) throws IOException { checkL1(history, faults, t0Millis, List.of()); }

  void checkL1(Path history, List<Fault> faults, long t0Millis, List<JsonNode> events) throws IOException {
    int failedGaps = 0;
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
        if (gap > L1_BOUND_MS && failedDuring(e.getKey(), events, ts.get(i - 1), ts.get(i))) {
          failedGaps++;
        } else if (gap > L1_BOUND_MS && !unloadedDuring(e.getKey(), faults, ts.get(i - 1) - t0Millis, ts.get(i) - t0Millis)) {
          violations.add("L1 comes back: " + e.getKey() + " was down " + gap + " ms from +" + (ts.get(i - 1) - t0Millis) + " ms");
        }
      }
      notes.add(e.getKey() + ": longest gap " + maxGap + " ms");
    }
    notes.add("gaps over the L1 bound while the restart limit had passed over every server that could run the app: " + failedGaps);
  }

  /**
   * FAILED, or on a dead host with every backup passed over by the restart limit (NO_QUALIFIED_BACKUP naming the
   * failures), from shortly before the gap to its end.
   */
  private static boolean failedDuring(String tag, List<JsonNode> events, long fromMillis, long toMillis) {
    return events.stream().anyMatch(e -> tag.equals(e.path("app").asText())
        && e.path("timeMillis").asLong() >= fromMillis - 10_000 && e.path("timeMillis").asLong() <= toMillis
        && ("APP_FAILED".equals(e.path("kind").asText())
            || ("NO_QUALIFIED_BACKUP".equals(e.path("kind").asText()) && e.path("message").asText().contains("times here"))));
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

  /**
   * A FAILOVER away from X needs X killed or paused shortly before, or X fenced because the database could not confirm
   * its renewals: X fenced itself (SERVER_FENCED) within 5 s before, just after another server (the Raft leader, say)
   * was paused or killed. A database without a leader for longer than a lease stops every renewal; that move is the
   * protocol's answer to an unavailable database (docs/PROTOCOL.md, R2), not a LAN outage mistaken for a death, and
   * is counted apart.
   */
  void checkF1(List<JsonNode> events, List<Fault> faults, long t0Millis) {
    int failovers = 0;
    int afterDatabaseOutage = 0;
    for (JsonNode e : events) {
      if (!"FAILOVER".equals(e.path("kind").asText())) continue;
      failovers++;
      String failed = e.path("details").path("failed").asText();
      long at = e.path("timeMillis").asLong() - t0Millis;
      boolean explained = faults.stream().anyMatch(f -> failed.equals(f.server()) && stopsAServer(f)
          && f.startMs() <= at && at <= f.endMs() + 15_000);
      if (!explained && fencedAfterAnotherServersOutage(failed, at, events, faults, t0Millis)) {
        afterDatabaseOutage++;
        continue;
      }
      if (!explained) violations.add("F1 no false failover: " + e.path("message").asText() + " at +" + at + " ms with no kill or pause of " + failed);
    }
    notes.add("failovers observed: " + failovers + " (" + afterDatabaseOutage
        + " of a host that fenced itself when another server's pause or death left the database unable to renew its lease)");
  }

  private static boolean stopsAServer(Fault f) {
    return f.kind().startsWith("KILL9") || f.kind().equals("SIGSTOP") || f.kind().equals("SNAPSHOT-INSTALL");
  }

  private static boolean fencedAfterAnotherServersOutage(String failed, long at, List<JsonNode> events, List<Fault> faults,
                                                          long t0Millis) {
    for (JsonNode e : events) {
      if (!"SERVER_FENCED".equals(e.path("kind").asText()) || !failed.equals(e.path("server").asText())) continue;
      long fencedAt = e.path("timeMillis").asLong() - t0Millis;
      if (fencedAt > at || fencedAt < at - 5000) continue;
      boolean outage = faults.stream().anyMatch(f -> !failed.equals(f.server()) && stopsAServer(f)
          && f.startMs() <= fencedAt && f.startMs() >= fencedAt - 3000);
      if (outage) return true;
    }
    return false;
  }

  /**
   * S1 for managed resources: the holds of one app's resource on two servers never overlap. A hold runs from its ACQ to
   * the next REL by the same server (a release by the agent, or by its fence when it fired); one never released lasts
   * to the end.
   */
  void checkResources(Path ledger) throws IOException {
    if (!Files.exists(ledger)) {
      violations.add("S1 resources: no resource was ever acquired (" + ledger + "): the check proves nothing");
      return;
    }
    record Hold(String tag, String server, long from, long to) {}
    List<Hold> holds = new ArrayList<>();
    Map<String, Long> open = new java.util.HashMap<>();
    for (String line : Files.readAllLines(ledger)) {
      String[] f = line.trim().split(" ");
      if (f.length != 4) continue;
      String key = f[1] + " " + f[2];
      long t = Long.parseLong(f[3]);
      if (f[0].equals("ACQ")) open.putIfAbsent(key, t);
      else if (f[0].equals("REL") && open.containsKey(key)) holds.add(new Hold(f[1], f[2], open.remove(key), t));
    }
    open.forEach((k, t) -> holds.add(new Hold(k.split(" ")[0], k.split(" ")[1], t, Long.MAX_VALUE)));
    for (int i = 0; i < holds.size(); i++) {
      for (int j = i + 1; j < holds.size(); j++) {
        Hold a = holds.get(i);
        Hold b = holds.get(j);
        if (a.tag().equals(b.tag()) && !a.server().equals(b.server()) && a.from() < b.to() && b.from() < a.to()) {
          violations.add("S1 resources: " + a.tag() + "'s volume held by " + a.server() + " and " + b.server() + " at once, for "
              + (Math.min(a.to(), b.to()) - Math.max(a.from(), b.from())) / 1_000_000 + " ms");
        }
      }
    }
    notes.add("managed resource holds checked: " + holds.size());
  }

  /**
   * Starts bounded by the backoff: starts that fail (FAIL, or HANG: its start timeout) of one app on one server since the
   * operator last cleared its failures number at most the restart limit (one more for a hang the fault's end cut
   * short), and come at least the first backoff apart.
   */
  void checkStarts(Path ledger, List<Fault> faults, long t0Millis, int limit, long backoffMs) throws IOException {
    if (!Files.exists(ledger)) return;
    Map<String, List<Long>> failed = new java.util.TreeMap<>();
    Map<String, Integer> startsPerApp = new java.util.TreeMap<>();
    for (String line : Files.readAllLines(ledger)) {
      String[] f = line.trim().split(" ");
      if (f.length != 4) continue;
      long ms = Long.parseLong(f[3]) / 1_000_000 - t0Millis;
      if (f[0].equals("START")) startsPerApp.merge(f[1], 1, Integer::sum);
      else failed.computeIfAbsent(f[1] + " " + f[2], k -> new ArrayList<>()).add(ms);
    }
    int worst = 0;
    for (var e : failed.entrySet()) {
      String tag = e.getKey().split(" ")[0];
      List<Long> ts = e.getValue();
      ts.sort(Comparator.naturalOrder());
      for (int i = 0; i < ts.size(); i++) {
        long from = Math.max(ts.get(i) - 600_000, lastClear(tag, faults, ts.get(i)));
        int n = 0;
        for (long t : ts) if (t >= from && t <= ts.get(i)) n++;
        worst = Math.max(worst, n);
        if (n > limit + 1) violations.add("starts bounded: " + e.getKey() + " failed to start " + n + " times by +" + ts.get(i) + " ms since +" + from + " ms (limit " + limit + ")");
        if (i > 0 && ts.get(i - 1) >= from && ts.get(i) - ts.get(i - 1) < backoffMs - 50) {
          violations.add("starts bounded: " + e.getKey() + " retried " + (ts.get(i) - ts.get(i - 1)) + " ms after a failed start (backoff " + backoffMs + " ms) at +" + ts.get(i) + " ms");
        }
      }
    }
    notes.add("starts per app: " + startsPerApp + "; most failed starts of an app on one server between clears: " + worst);
  }

  /** When the operator last cleared {@code tag}'s failures (reset, load, re-add, the final heal) before {@code atMs}. */
  private static long lastClear(String tag, List<Fault> faults, long atMs) {
    long last = Long.MIN_VALUE / 2;
    for (Fault f : faults) {
      boolean clears = (f.kind().equals("OP-RESET") && tag.equals(f.server())) || f.kind().startsWith("HEAL-")
          || ((f.kind().equals("OP-LOAD") || f.kind().equals("OP-READD")) && f.detail() != null && f.detail().startsWith(tag));
      if (clears && f.startMs() <= atMs) last = Math.max(last, f.startMs());
    }
    return last;
  }

  /** Epochs only grow per app, across remove and re-add: an instance never starts at an epoch below one that ran before it. */
  void checkEpochs(Path history) throws IOException {
    List<History.Instance> all = new ArrayList<>(History.instances(history));
    all.sort(Comparator.comparingLong(History.Instance::first));
    Map<String, History.Instance> highest = new java.util.HashMap<>();
    for (History.Instance i : all) {
      History.Instance h = highest.get(i.tag());
      if (h != null && h.last() < i.first() && i.epoch() < h.epoch()) {
        violations.add("epochs grow: " + i + " started after " + h + " had run at a higher epoch");
      }
      if (h == null || i.epoch() > h.epoch()) highest.put(i.tag(), i);
    }
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

  /** #23: an upgrade raises the cluster's format once every server runs the new build; no agent ever refuses it. */
  void checkFormats(List<JsonNode> events, String upgradeFrom, List<Fault> faults, int servers) {
    long upgrades = faults.stream().filter(f -> f.kind().equals("AGENT-UPGRADE")).count();
    List<String> raised = new ArrayList<>();
    for (JsonNode e : events) {
      String kind = e.path("kind").asText();
      if (kind.equals("FORMAT_REFUSED")) violations.add("an agent refused the cluster's format: " + e.path("message").asText());
      if (kind.equals("FORMAT_RAISED")) raised.add(e.path("message").asText());
    }
    if (upgradeFrom != null) notes.add("upgrades from " + upgradeFrom.substring(0, 12) + ": " + upgrades + "; format raised: " + raised);
    if (upgradeFrom != null && upgrades == servers && raised.isEmpty()) {
      violations.add("every server was upgraded, and the cluster never raised its format");
    }
  }
}
