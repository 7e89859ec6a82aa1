package dev.understudy.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "local", mixinStandardHelpOptions = true, description = "Run a cluster of agent processes on this machine (127.0.0.11, .12, ...).",
    subcommands = {LocalCommand.Up.class, LocalCommand.Down.class, LocalCommand.Kill.class, LocalCommand.Start.class,
        LocalCommand.Pause.class, LocalCommand.Resume.class})
final class LocalCommand {

  @Command(name = "up", mixinStandardHelpOptions = true, description = "Start N agents and wait until the cluster is ready.",
      footer = {"", "Example:", "  understudy local up --servers 3 --dir demo-cluster"})
  static final class Up implements Callable<Integer> {
    @Option(names = "--servers", defaultValue = "3") int servers;
    @Option(names = "--dir", defaultValue = "demo-cluster") Path dir;
    @Option(names = "--base-port", defaultValue = "7700", description = "API port; Raft and heartbeat use the next two") int basePort;
    @Option(names = "--profile", description = "timing profile: default, fast or relaxed") String profile;
    @Option(names = "--test-hooks", description = "enable the fault-injection endpoint") boolean hooks;
    @Option(names = "--disk-pulse", description = "add a disk pulse channel (a shared file in DIR)") boolean diskPulse;
    @Option(names = "--witness", description = "make the last server a witness (try: --servers 3 --witness)") boolean witness;

    @Override
    public Integer call() throws Exception {
      var timing = profile == null ? null : java.util.Map.<String, Object>of("profile", profile);
      String weak = weakness(servers, witness);
      if (weak != null) System.err.println("warning: " + weak);
      LocalCluster lc = LocalCluster.up(dir, servers, basePort, timing, hooks, diskPulse, Map.of(), witness, Progress.printer());
      for (var e : lc.urls().entrySet()) System.out.println(e.getKey() + " " + e.getValue());
      System.out.println("UNDERSTUDY_TOKEN=" + lc.token());
      return 0;
    }
  }

  /** What a cluster of this shape cannot survive, said before it is made; null when it survives one loss. */
  static String weakness(int servers, boolean witness) {
    int appServers = witness ? servers - 1 : servers;
    if (servers < 3) {
      return servers + (servers == 1 ? " voter leaves" : " voters leave") + " no majority after any loss: the database, and with it every"
          + " failover, stops with the first server down" + (appServers < 2 ? ", and " + appServers + " app server has no backup" : "")
          + " (try --servers 3" + (witness ? " --witness" : "") + ")";
    }
    if (appServers < 2) return "only one server hosts apps: none has a backup (try --servers 3 --witness)";
    return null;
  }

  @Command(name = "down", mixinStandardHelpOptions = true, description = "Stop every agent (each stops its apps first).")
  static final class Down implements Callable<Integer> {
    @Option(names = "--dir", defaultValue = "demo-cluster") Path dir;

    @Override
    public Integer call() throws Exception {
      LocalCluster.open(dir).down();
      System.out.println("local cluster in " + dir + " stopped");
      return 0;
    }
  }

  @Command(name = "kill", mixinStandardHelpOptions = true, description = "SIGKILL one agent together with the apps it runs (a server dying).")
  static final class Kill implements Callable<Integer> {
    @Parameters(index = "0") String id;
    @Option(names = "--dir", defaultValue = "demo-cluster") Path dir;

    @Override
    public Integer call() throws Exception {
      LocalCluster.open(dir).kill(id);
      System.out.println("killed " + id);
      return 0;
    }
  }

  @Command(name = "start", mixinStandardHelpOptions = true, description = "Start one agent again.")
  static final class Start implements Callable<Integer> {
    @Parameters(index = "0") String id;
    @Option(names = "--dir", defaultValue = "demo-cluster") Path dir;

    @Override
    public Integer call() throws Exception {
      LocalCluster lc = LocalCluster.open(dir);
      lc.start(id);
      lc.awaitReady(Progress.printer(), 60_000);
      System.out.println("started " + id + " " + lc.apiUrl(id));
      return 0;
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true, description = "SIGSTOP one agent (its apps keep running until its fence kills them when its lease runs out).")
  static final class Pause implements Callable<Integer> {
    @Parameters(index = "0") String id;
    @Option(names = "--dir", defaultValue = "demo-cluster") Path dir;

    @Override
    public Integer call() throws Exception {
      LocalCluster.open(dir).signalAgent(id, "STOP");
      return 0;
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, description = "SIGCONT a paused agent.")
  static final class Resume implements Callable<Integer> {
    @Parameters(index = "0") String id;
    @Option(names = "--dir", defaultValue = "demo-cluster") Path dir;

    @Override
    public Integer call() throws Exception {
      LocalCluster.open(dir).signalAgent(id, "CONT");
      return 0;
    }
  }
}
