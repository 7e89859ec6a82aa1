package dev.understudy.agent;

import dev.understudy.detect.LeaseBatcher;
import dev.understudy.detect.Ticker;
import dev.understudy.detect.UplinkCheck;
import dev.understudy.model.Inventory;
import dev.understudy.model.Sizes;
import dev.understudy.run.Resources;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The agent's smaller parts built from its configuration, and the gauges that read them. */
final class AgentParts {
  private AgentParts() {}

  static UplinkCheck uplink(AgentConfig config, Ticker ticker) {
    List<InetSocketAddress> targets = new ArrayList<>();
    if (config.uplink() != null && config.uplink().targets() != null) {
      for (String t : config.uplink().targets()) {
        int c = t.lastIndexOf(':');
        targets.add(new InetSocketAddress(t.substring(0, c), Integer.parseInt(t.substring(c + 1))));
      }
    }
    return new UplinkCheck(targets, config.uplink() == null ? Duration.ofSeconds(3)
        : Durations.parse("uplink.timeout", AgentConfig.or(config.uplink().timeout(), "3s")), ticker);
  }

  /** Kernel forwarding's table, when configured; refused with a message saying what to use instead. */
  static dev.understudy.route.KernelRoutes kernelRoutes(AgentConfig config) {
    if (!config.kernelForwarding()) return null;
    try {
      return dev.understudy.route.KernelRoutes.open(config.address(), config.forwardingLimits());
    } catch (java.io.IOException e) {
      throw new ConfigException("forwarding.mode", "kernel: " + e.getMessage()
          + " (use forwarding.mode: user where nftables cannot be used)");
    }
  }

  /**
   * The data directory: the replica, the apps' logs, pid files and scripts are the agent's alone; apps (perhaps
   * another user) may only pass through to their own working directories under apps/.
   */
  static java.nio.file.Path dataDir(AgentConfig config) throws java.io.IOException {
    java.nio.file.Path data = java.nio.file.Path.of(config.dataDir()).toAbsolutePath();
    dev.understudy.tls.Pem.ownerOnlyDirectory(data);
    for (String own : List.of("raft", "logs", "run")) dev.understudy.tls.Pem.ownerOnlyDirectory(data.resolve(own));
    java.nio.file.Files.createDirectories(data.resolve("apps"));
    dev.understudy.tls.Pem.setMode(data, "rwx--x--x");
    dev.understudy.tls.Pem.setMode(data.resolve("apps"), "rwx--x--x");
    return data;
  }

  static dev.understudy.tls.ReloadingKeys keys(AgentConfig config) {
    try {
      return dev.understudy.tls.ReloadingKeys.open(config.tls().files(java.nio.file.Path.of("")));
    } catch (java.io.IOException e) {
      throw new ConfigException("tls", e.getMessage());
    }
  }

  static dev.understudy.detect.HeartbeatService heartbeat(AgentConfig config, Timing timing, Ticker ticker, long incarnation)
      throws java.io.IOException {
    java.util.Map<String, InetSocketAddress> peers = new java.util.HashMap<>();
    for (var p : config.peers()) peers.put(p.id(), new InetSocketAddress(p.address(), config.heartbeatPort(p)));
    return new dev.understudy.detect.HeartbeatService(config.server(), new InetSocketAddress(config.address(), config.heartbeatPort()),
        peers, config.cluster().secret().getBytes(java.nio.charset.StandardCharsets.UTF_8), timing.heartbeatInterval(), ticker,
        incarnation);
  }

  /** The supervisor of this server's apps: started only while the lease allows, fenced at its end. */
  static dev.understudy.run.Supervisor supervisor(Agent a, java.nio.file.Path data, dev.understudy.run.Supervisor.Listener events)
      throws java.io.IOException {
    AgentConfig config = a.config();
    var keeper = a.leaseKeeper();
    // the fence's deadline is on System.nanoTime(), which is this agent's ticker (see the constructor's one caller)
    var s = new dev.understudy.run.Supervisor(a.id(), config.address(), a.apiUrl(), data, a.ticker(), keeper::mayStart,
        keeper::runUntil, events);
    if (config.apps() != null) s.defaultAccount(config.apps().user(), config.apps().group());
    if (config.apps() != null && config.apps().ocfRoot() != null) s.ocfRoot(java.nio.file.Path.of(config.apps().ocfRoot()));
    if (config.apiTls()) s.clusterCaForApps(() -> clusterCaPem(config));
    return s;
  }

  /** The cluster CA's certificate as text, for apps' UNDERSTUDY_CA (an app run as another user cannot read the file). */
  private static String clusterCaPem(AgentConfig config) {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of(config.tls().ca()));
    } catch (java.io.IOException e) {
      org.slf4j.LoggerFactory.getLogger(AgentParts.class).warn("cannot read the cluster CA {} for an app's UNDERSTUDY_CA: {}",
          config.tls().ca(), e.toString());
      return null;
    }
  }

  static Inventory inventory(AgentConfig config) {
    var inv = config.inventory();
    return Resources.detect(inv == null ? List.of() : inv.labels(), inv == null ? null : inv.cpus(),
        inv == null || inv.memory() == null ? null : Sizes.parseBytes(inv.memory()));
  }

  static long diskTimeoutNanos(AgentConfig config) {
    return config.diskPulse() == null ? 0
        : Durations.parse("diskPulse.timeout", AgentConfig.or(config.diskPulse().timeout(), "500ms")).toNanos();
  }

  static void gauges(Agent a, Metrics metrics, LeaseBatcher batcher) {
    var keeper = a.leaseKeeper();
    var forwarder = a.forwarder();
    // counts only grow: Prometheus counters (exposed with _total), so rate() and increase() work on them
    if (a.kernelRoutes() != null) metrics.counter("understudy_kernel_route_errors", a.kernelRoutes()::errors);
    metrics.gauge("understudy_forwarded_connections_open", forwarder::openConnections);
    metrics.counter("understudy_forwarded_connections", forwarder::forwardedConnections);
    metrics.gauge("understudy_lease_remaining_seconds", () -> keeper.remainingMillis() / 1000.0);
    metrics.counter("understudy_lease_renewals_batched", keeper::batchedRenewals);
    metrics.counter("understudy_lease_renewals_direct", keeper::directRenewals);
    metrics.counter("understudy_lease_batch_entries", batcher::entries);
    metrics.gauge("understudy_db_replica_stalled", () -> a.replicaStalled() ? 1 : 0);
    // 0: this server cannot reach a majority (no lease), or its replica stalled: status says so too (exit code 4)
    metrics.gauge("understudy_view_current", () -> Boolean.TRUE.equals(a.standing().get("current")) ? 1 : 0);
    metrics.gauge("understudy_apps_running_here", () -> a.supervisor().instances().size());
    metrics.counter("understudy_heartbeat_rejected_packets", a.heartbeat()::rejectedPackets);
    metrics.counter("understudy_disk_pulse_errors", a::diskErrors);
    // this agent found itself paused (GC, SIGSTOP, a starved machine) and forgave its peers instead of accusing them
    metrics.counter("understudy_self_pauses", a::pausesDetected);
  }
}
