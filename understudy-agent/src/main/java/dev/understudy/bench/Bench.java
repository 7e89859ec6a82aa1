package dev.understudy.bench;

import dev.understudy.store.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs the selected benchmarks, prints their figures and writes them as JSON. */
public final class Bench {
  private Bench() {}

  public static int run(List<String> only, int trials, int apps, String profile, Path out, int basePort) throws Exception {
    Map<String, Object> results = new LinkedHashMap<>();
    results.put("machine", Map.of("cores", Runtime.getRuntime().availableProcessors(), "java", System.getProperty("java.version")));
    if (only.contains("cas")) {
      System.out.println("== cluster database (3 Ratis replicas on loopback)");
      results.put("cas", CasBench.run(2000, 32, Duration.ofSeconds(10)));
    }
    if (only.contains("forward")) {
      System.out.println("== forwarding (agent cluster port vs direct)");
      results.put("forward", ForwardBench.run(5000, 2000));
    }
    if (only.contains("failover") || only.contains("mass") || only.contains("footprint")) {
      ClusterBench cb = ClusterBench.up(profile, basePort);
      try {
        if (only.contains("footprint")) {
          System.out.println("== footprint (idle agent, 0 apps)");
          results.put("footprintIdle", cb.footprint("s2", 0));
        }
        if (only.contains("failover")) {
          System.out.println("== failover, detection and failback (" + profile + " profile, " + trials + " trials)");
          results.put("failover", cb.failover(trials));
        }
        if (only.contains("mass")) {
          System.out.println("== mass failover");
          results.put("mass", cb.mass(apps));
        }
      } finally {
        cb.down();
      }
    }
    Files.createDirectories(out);
    Path json = out.resolve("results.json");
    Files.writeString(json, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(results));
    System.out.println("results written to " + json.toAbsolutePath());
    return 0;
  }
}
