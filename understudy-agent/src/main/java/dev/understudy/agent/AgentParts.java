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
