package dev.understudy.bench;

import dev.understudy.agent.Timing;
import dev.understudy.cli.LocalCluster;
import dev.understudy.store.Op;
import dev.understudy.store.RaftStore;
import dev.understudy.store.StoreConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The idle CPU of the cluster database alone: five bare Raft replicas (the agent's {@link RaftStore}, the agent's JVM
 * options, the default profile's election timeouts), each its own process on 127.0.0.11-15, with no agent around them.
 * Run once with no writes (Raft heartbeats only) and once with what an idle agent cluster writes: one lease-batch entry
 * of five renewals every lease-renew period, submitted on the leader as the agent's batcher does. What an agent uses
 * above this is the agent's own; this much is the price of the replicated database at these timeouts.
 */
public final class RaftFloor {
  private RaftFloor() {}

  /** One replica: {@code <index 1-5> <data dir> <port1,...,port5> <write: true|false>}. Runs until killed. */
  public static void main(String[] args) throws Exception {
    int me = Integer.parseInt(args[0]);
    String[] ports = args[2].split(",");
    List<StoreConfig.Peer> peers = new ArrayList<>();
    for (int i = 1; i <= ports.length; i++) peers.add(new StoreConfig.Peer("s" + i, host(i), Integer.parseInt(ports[i - 1])));
    Timing t = Timing.profile("default");
    RaftStore store = RaftStore.start(new StoreConfig("s" + me, "raft-floor", Path.of(args[1], "s" + me), peers,
        t.electionTimeoutMin(), t.electionTimeoutMax(), Duration.ofSeconds(3)));
    boolean write = Boolean.parseBoolean(args[3]);
    long period = t.leaseRenew().toMillis();
    for (long n = 0; ; n++) {
      Thread.sleep(period - Math.floorMod(System.currentTimeMillis(), period));
      if (!write || !store.isLeaderReady()) continue;
      List<List<Op>> batch = new ArrayList<>();
      for (int i = 1; i <= ports.length; i++) batch.add(List.of(Op.put("leases/s" + i, "{\"seq\":" + n + "}")));
      store.txnBatchHere(batch);
    }
  }

  private static String host(int i) { return "127.0.0." + (10 + i); }

  /** Five replicas for {@code warmSeconds}, then each one's CPU over {@code measureSeconds}; the leader apart. */
  static Map<String, Object> measure(boolean write, int warmSeconds, int measureSeconds) throws Exception {
    Path dir = Files.createTempDirectory("understudy-raft-floor-");
    List<String> ports = new ArrayList<>();
    for (int i = 1; i <= 5; i++) ports.add(String.valueOf(CasBench.freePort(host(i))));
    String javaBin = ProcessHandle.current().info().command().orElse("java");
    List<Process> procs = new ArrayList<>();
    try {
      for (int i = 1; i <= 5; i++) {
        List<String> cmd = new ArrayList<>(List.of(javaBin));
        cmd.addAll(LocalCluster.agentJvmOptions());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), RaftFloor.class.getName(), String.valueOf(i),
            dir.toString(), String.join(",", ports), String.valueOf(write)));
        procs.add(new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("s" + i + ".log").toFile())).start());
      }
      Thread.sleep(warmSeconds * 1000L);
      long[] t0 = new long[5];
      for (int i = 0; i < 5; i++) t0[i] = ClusterBench.cpuTicks(procs.get(i).pid());
      long w0 = System.nanoTime();
      Thread.sleep(measureSeconds * 1000L);
      double wall = (System.nanoTime() - w0) / 1e9;
      List<Double> cpu = new ArrayList<>();
      for (int i = 0; i < 5; i++) cpu.add((ClusterBench.cpuTicks(procs.get(i).pid()) - t0[i]) / wall);
      // the leader replicates to four followers: by far the busiest, whichever it is
      int leader = cpu.indexOf(cpu.stream().max(Double::compare).orElseThrow());
      List<Double> followers = new ArrayList<>(cpu);
      followers.remove(leader);
      java.util.Collections.sort(followers);
      System.out.printf("  Ratis alone, %s: follower median %.2f%%, busiest (leader) %.2f%% of a core%n",
          write ? "one lease batch every " + Timing.profile("default").leaseRenew().toMillis() + " ms" : "heartbeats only",
          followers.get(followers.size() / 2), cpu.get(leader));
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("writes", write);
      m.put("followerCpuMedian", followers.get(followers.size() / 2));
      m.put("leaderCpu", cpu.get(leader));
      return m;
    } finally {
      for (Process p : procs) p.destroyForcibly();
      for (Process p : procs) p.waitFor();
      LocalCluster.deleteTree(dir);
    }
  }
}
