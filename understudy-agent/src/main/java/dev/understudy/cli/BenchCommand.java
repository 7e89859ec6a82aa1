package dev.understudy.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true, description = "Run the benchmarks and print their figures (also bench/out/results.json).",
    footer = {"", "Examples:", "  bench/run", "  bench/run --only cas,forward", "  bench/run --only failover --trials 30 --profile fast"})
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--only", split = ",", description = "cas, forward, failover, mass, footprint (default: all)")
  List<String> only = List.of("cas", "forward", "failover", "mass", "footprint");

  @Option(names = "--trials", defaultValue = "20") int trials;
  @Option(names = "--apps", defaultValue = "200", description = "apps for the mass failover") int apps;
  @Option(names = "--profile", defaultValue = "default") String profile;
  @Option(names = "--out", defaultValue = "bench/out") Path out;
  @Option(names = "--base-port", defaultValue = "7850") int basePort;

  @Override
  public Integer call() throws Exception {
    return dev.understudy.bench.Bench.run(only, trials, apps, profile, out, basePort);
  }
}
