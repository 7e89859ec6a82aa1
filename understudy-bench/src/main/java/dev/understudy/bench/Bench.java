package dev.understudy.bench;

import dev.understudy.store.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the selected benchmarks, prints their figures and one table against the targets, and writes them as JSON
 * (bench/out/results.json) and a plot of the failover time distributions (bench/out/failover.png).
 */
public final class Bench {
  private Bench() {}

  /** The benchmarks, in the order they run. */
  public static final List<String> ALL = List.of("forward", "footprint", "failover", "aware", "mass", "fast", "netns", "cas");

  public record Options(List<String> only, int trials, int netnsTrials, int apps, Path out, int basePort) {}

  public static int run(Options o) throws Exception {
    Map<String, Object> results = new LinkedHashMap<>();
    results.put("machine", Map.of("cores", Runtime.getRuntime().availableProcessors(), "java", System.getProperty("java.version")));
    Targets table = new Targets();
    Map<String, List<Double>> distributions = new LinkedHashMap<>();
    if (o.only().contains("forward")) {
      System.out.println("== forwarding (agent cluster port vs direct)");
      Map<String, Object> f = ForwardBench.run(5000, 8000);
      results.put("forward", f);
      table.atMost("forwarding: added latency p50 (us)", num(f, "addedP50Micros"), 100);
      table.atLeast("forwarding: throughput, % of direct", num(f, "forwardedPercentOfDirect"), 80);
      Map<String, Object> k = ForwardBench.kernel(5000, 8000);
      results.put("forwardKernel", k);
      if (!k.containsKey("skipped")) {
        table.atMost("kernel forwarding: added latency p50 (us)", num(k, "addedP50Micros"), 100);
        table.atLeast("kernel forwarding: throughput, % of direct", num(k, "kernelPercentOfDirect"), 80);
      }
    }
    if (o.only().contains("footprint")) {
      System.out.println("== footprint (idle 5-agent cluster, each agent watching 4 peers, 0 apps; 40 s warm, 30 s measured)");
      Map<String, Object> fp = ClusterBench.idleCluster(o.basePort(), 40, 30);
      results.put("footprintIdle", fp);
      table.atMost("idle agent RSS, largest of 5 (MB)", num(fp, "rssMaxMB"), 150);
      table.atMost("idle agent CPU, median follower (% of a core)", num(fp, "followerCpuMedian"), 1);
      table.atMost("idle agent CPU, Raft leader (% of a core)", num(fp, "leaderCpu"), 1);
      // what the replicated database alone costs at the same timeouts: the part of the figures above no agent change moves
      Map<String, Object> bare = RaftFloor.measure(false, 30, 20);
      Map<String, Object> batched = RaftFloor.measure(true, 30, 20);
      results.put("raftFloorHeartbeats", bare);
      results.put("raftFloorLeaseBatches", batched);
      table.report("Ratis alone, heartbeats only, median follower (% of a core)", num(bare, "followerCpuMedian"));
      table.report("Ratis alone, lease batches, median follower (% of a core)", num(batched, "followerCpuMedian"));
      table.report("Ratis alone, lease batches, leader (% of a core)", num(batched, "leaderCpu"));
    }
    if (o.only().contains("failover") || o.only().contains("aware") || o.only().contains("mass")) {
      ClusterBench cb = ClusterBench.up("default", o.basePort());
      try {
        if (o.only().contains("failover")) {
          System.out.println("== failover, detection and failback, capable app (default profile, " + o.trials() + " trials)");
          Map<String, Object> f = cb.failover(o.trials(), false);
          results.put("failover", f);
          distributions.put("Understudy default\n(loopback)", samples(f, "failoverSamples"));
          table.atMost("failover p50, default (ms)", num(f, "failoverMs", "p50"), 1000);
          table.atMost("failover p99, default (ms)", num(f, "failoverMs", "p99"), 1500);
          table.report("detection p50, default (ms)", num(f, "detectionMs", "p50"));
          table.report("failback gap, capable app p50 (ms)", num(f, "failbackGapMs", "p50"));
        }
        if (o.only().contains("aware")) {
          System.out.println("== failover and failback, aware app pre-started as a warm standby (" + o.trials() + " trials)");
          Map<String, Object> f = cb.failover(o.trials(), true);
          results.put("failoverAware", f);
          distributions.put("Understudy default\nwarm standby", samples(f, "failoverSamples"));
          table.report("failover p50, aware warm standby (ms)", num(f, "failoverMs", "p50"));
          table.atMost("failback gap, aware warm standby p50 (ms)", num(f, "failbackGapMs", "p50"), 500);
        }
        if (o.only().contains("mass")) {
          System.out.println("== mass failover (" + o.apps() + " apps)");
          try {
            Map<String, Object> m = cb.mass(o.apps());
            results.put("mass", m);
            table.atMost(o.apps() + " apps re-placed (ms)", num(m, "replacedMs"), 3000);
            if (m.get("footprintWithApps") instanceof Map<?, ?> fp) {
              table.atMost("agent RSS hosting " + fp.get("appsHosted") + " apps (MB)", ((Number) fp.get("rssMB")).doubleValue(), 150);
              table.report("agent CPU hosting " + fp.get("appsHosted") + " apps (% of a core)",
                  ((Number) fp.get("cpuPercentOfCore")).doubleValue());
            }
          } catch (RuntimeException e) {
            failed(table, results, "mass", o.apps() + " apps re-placed", e);
          }
        }
      } finally {
        cb.down();
      }
    }
    if (o.only().contains("fast")) {
      System.out.println("== failover, capable app (fast profile, " + o.trials() + " trials)");
      try {
        ClusterBench cb = ClusterBench.up("fast", o.basePort() + 20);
        try {
          Map<String, Object> f = cb.failover(o.trials(), false);
          results.put("failoverFast", f);
          distributions.put("Understudy fast\n(loopback)", samples(f, "failoverSamples"));
          table.atMost("failover p50, fast profile (ms)", num(f, "failoverMs", "p50"), 400);
        } finally {
          cb.down();
        }
      } catch (RuntimeException e) {
        failed(table, results, "failoverFast", "failover p50, fast profile", e);
      }
    }
    if (o.only().contains("netns")) {
      System.out.println("== side by side with keepalived over veth links (network namespaces, " + o.netnsTrials() + " trials)");
      Map<String, Object> n = SideBySide.run(o.netnsTrials(), o.basePort() + 40);
      results.put("netns", n);
      if (n.containsKey("skipped")) {
        table.skipped("side by side with keepalived", String.valueOf(n.get("skipped")));
      } else {
        String[][] series = {{"keepalivedDefault", "keepalived default\n(advert 1 s)"}, {"keepalivedFastest", "keepalived fastest\n(advert 10 ms)"},
            {"understudyDefault", "Understudy default\n(veth)"}, {"understudyFast", "Understudy fast\n(veth)"}};
        for (String[] s : series) distributions.put(s[1], samples(n, s[0], "samples"));
        double kd = num(n, "keepalivedDefault", "p50");
        double ud = num(n, "understudyDefault", "p50");
        table.report("veth: keepalived default failover p50 (ms)", kd);
        table.report("veth: keepalived fastest failover p50 (ms)", num(n, "keepalivedFastest", "p50"));
        table.report("veth: Understudy default failover p50 (ms)", ud);
        table.report("veth: Understudy fast failover p50 (ms)", num(n, "understudyFast", "p50"));
        table.atLeast("keepalived default / Understudy default (x)", kd / ud, 3);
      }
    }
    // last: its three replicas share this JVM, and Ratis takes seconds to wind them down, which would disturb the rest
    if (o.only().contains("cas")) {
      System.out.println("== cluster database (3 Ratis replicas on loopback)");
      Map<String, Object> cas = CasBench.run(2000, 32, Duration.ofSeconds(10));
      results.put("cas", cas);
      table.atMost("CAS latency p50 (ms)", num(cas, "casLatencyMs", "p50"), 5);
      table.atLeast("CAS/s, one in flight per key", num(cas, "casPerSecondPipelined"), 2000);
    }
    Files.createDirectories(o.out());
    Path json = o.out().resolve("results.json");
    results.put("table", table.rows());
    Files.writeString(json, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(results));
    System.out.println();
    table.print();
    System.out.println("results written to " + json.toAbsolutePath());
    if (!distributions.isEmpty()) {
      Path png = o.out().resolve("failover.png");
      try {
        Plot.failoverDistributions(distributions, png);
        System.out.println("plot written to " + png.toAbsolutePath());
      } catch (RuntimeException | java.io.IOException | Error e) { // no fonts or no AWT: the figures above still stand
        System.out.println("no plot: " + e);
      }
    }
    return 0;
  }

  @SuppressWarnings("unchecked")
  /** A section that failed: the rest of the suite still runs, and the table and results say what failed. */
  private static void failed(Targets table, Map<String, Object> results, String key, String figure, RuntimeException e) {
    System.out.println("  FAILED: " + e.getMessage());
    table.skipped(figure, "failed: " + e.getMessage());
    results.put(key, Map.of("error", String.valueOf(e.getMessage())));
  }

  static double num(Map<String, Object> m, String... path) {
    Object v = m;
    for (String p : path) v = v instanceof Map<?, ?> mm ? ((Map<String, Object>) mm).get(p) : null;
    return v instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  @SuppressWarnings("unchecked")
  static List<Double> samples(Map<String, Object> m, String... path) {
    Object v = m;
    for (String p : path) v = v instanceof Map<?, ?> mm ? ((Map<String, Object>) mm).get(p) : null;
    List<Double> out = new ArrayList<>();
    if (v instanceof List<?> l) for (Object x : l) if (x instanceof Number n) out.add(n.doubleValue());
    return out;
  }
}
