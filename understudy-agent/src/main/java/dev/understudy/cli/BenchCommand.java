package dev.understudy.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true, description = "Run the benchmarks and print their figures (also bench/out/results.json).",
    footer = {"", "Examples:", "  bench/run", "  bench/run --only cas,forward", "  bench/run --only failover,fast --trials 30", "  bench/run --only netns --netns-trials 20"})
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--only", split = ",", description = "cas, forward, failover (default profile), fast (fast profile),"
      + " aware (warm standby), mass, footprint, netns (side by side with keepalived); default: all")
  List<String> only = dev.understudy.bench.Bench.ALL;

  @Option(names = "--trials", defaultValue = "30", description = "failover trials on loopback (default: ${DEFAULT-VALUE})") int trials;
  @Option(names = "--netns-trials", defaultValue = "10", description = "trials of each tool over veth links (default: ${DEFAULT-VALUE})")
  int netnsTrials;
  @Option(names = "--apps", defaultValue = "1000", description = "apps for the mass failover (default: ${DEFAULT-VALUE})") int apps;
  @Option(names = "--out", defaultValue = "bench/out") Path out;
  @Option(names = "--base-port", defaultValue = "7850") int basePort;

  @Override
  public Integer call() throws Exception {
    for (String b : only) {
      if (!dev.understudy.bench.Bench.ALL.contains(b)) throw new CliException(2, "--only: no benchmark " + b + "; choose from " + dev.understudy.bench.Bench.ALL);
    }
    return dev.understudy.bench.Bench.run(new dev.understudy.bench.Bench.Options(only, trials, netnsTrials, apps, out, basePort));
  }
}
