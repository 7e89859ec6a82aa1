package dev.understudy.bench;

import dev.understudy.cli.CliException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Entry point of bench/run: the benchmarks live outside the shipped jar. */
@Command(name = "bench/run", mixinStandardHelpOptions = true, description = "Run the benchmarks and print their figures (also bench/out/results.json).",
    footer = {"", "Examples:", "  bench/run", "  bench/run --only cas,forward", "  bench/run --only failover,fast --trials 30", "  bench/run --only netns --netns-trials 20"})
public final class BenchMain implements Callable<Integer> {
  @Option(names = "--only", split = ",", description = "cas, forward, failover (default profile), fast (fast profile),"
      + " aware (warm standby), mass, footprint, netns (side by side with keepalived); default: all")
  List<String> only = Bench.ALL;

  @Option(names = "--trials", defaultValue = "30", description = "failover trials on loopback (default: ${DEFAULT-VALUE})") int trials;
  @Option(names = "--netns-trials", defaultValue = "10", description = "trials of each tool over veth links (default: ${DEFAULT-VALUE})")
  int netnsTrials;
  @Option(names = "--apps", defaultValue = "1000", description = "apps for the mass failover (default: ${DEFAULT-VALUE})") int apps;
  @Option(names = "--out", defaultValue = "bench/out") Path out;
  @Option(names = "--base-port", defaultValue = "7850") int basePort;

  public static void main(String[] args) {
    dev.understudy.store.RaftStore.pooledAsyncSteps();
    dev.understudy.run.ProcessGroups.preferVfork();
    dev.understudy.store.RaftStore.smallerNettyPools();
    CommandLine cl = new CommandLine(new BenchMain());
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof CliException ce) {
        cmd.getErr().println("error: " + ce.getMessage());
        return ce.exitCode;
      }
      throw e;
    });
    System.exit(cl.execute(args));
  }

  @Override
  public Integer call() throws Exception {
    for (String b : only) {
      if (!Bench.ALL.contains(b)) throw new CliException(2, "--only: no benchmark " + b + "; choose from " + Bench.ALL);
    }
    return Bench.run(new Bench.Options(only, trials, netnsTrials, apps, out, basePort));
  }
}
