package dev.understudy.agent;

import dev.understudy.decide.Verdict;
import dev.understudy.model.Event;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/** What /metrics serves, in Prometheus format (Micrometer). */
public final class Metrics {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Timer commit;
  private final Counter leaderChanges;
  private final DistributionSummary failoverSeconds;
  private final DistributionSummary detectionSeconds;
  private final DistributionSummary failbackSeconds;
  private final DistributionSummary moveSeconds;
  private final Map<String, AtomicInteger> verdicts = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> appStates = new ConcurrentHashMap<>();
  private final String self;

  Metrics(String self) {
    this.self = self;
    registry.config().commonTags("server", self);
    commit = Timer.builder("understudy_db_commit").description("cluster database write latency")
        .publishPercentiles(0.5, 0.99).register(registry);
    leaderChanges = Counter.builder("understudy_db_leader_changes").register(registry);
    failoverSeconds = DistributionSummary.builder("understudy_failover_seconds")
        .description("host DOWN to app RUNNING on the new host, as measured by the new host")
        .serviceLevelObjectives(0.5, 1, 1.5, 2, 3, 5, 10).register(registry);
    detectionSeconds = DistributionSummary.builder("understudy_detection_seconds")
        .description("last LAN ack to DOWN verdict").serviceLevelObjectives(0.25, 0.5, 1, 2, 5).register(registry);
    failbackSeconds = DistributionSummary.builder("understudy_failback_seconds")
        .description("stop on the old host to app RUNNING on its primary, as measured by the old host")
        .serviceLevelObjectives(0.5, 1, 1.5, 2, 3, 5, 10, 30).register(registry);
    moveSeconds = DistributionSummary.builder("understudy_move_seconds")
        .description("stop on the old host to app RUNNING on the server an operator (or a drain) moved it to")
        .serviceLevelObjectives(0.5, 1, 1.5, 2, 3, 5, 10, 30).register(registry);
    // the usual refusals exist from the start at 0, so rate() and alerts see their first one
    for (int status : new int[] {400, 401, 403, 404, 409, 429}) answered(status, 0);
  }

  void gauge(String name, Supplier<Number> value) {
    Gauge.builder(name, value).register(registry);
  }

  /** A count kept elsewhere that only grows, as a Prometheus counter ({@code name_total}). */
  void counter(String name, Supplier<Number> value) {
    io.micrometer.core.instrument.FunctionCounter.builder(name, value, v -> v.get().doubleValue()).register(registry);
  }

  void commitTook(Duration d) { commit.record(d); }

  void leaderChanged() { leaderChanges.increment(); }

  void replicaRebuilt() { registry.counter("understudy_db_replica_rebuilds").increment(); }

  void leaderStepDownAsked() { registry.counter("understudy_db_leader_step_downs_asked").increment(); }

  /** A timing the core measured, into its histogram. */
  void took(dev.understudy.core.Ready.Measure.Kind kind, double seconds) {
    (switch (kind) {
      case DETECTION -> detectionSeconds;
      case FAILOVER -> failoverSeconds;
      case FAILBACK -> failbackSeconds;
      case MOVE -> moveSeconds;
    }).record(seconds);
  }

  /**
   * Counts the events this agent raised, when its replica applies them. Every agent applies every event; counting
   * only its own, each event is counted once in the cluster, so a sum across agents is the cluster's count.
   */
  void event(Event e) {
    if (!self.equals(e.server())) return;
    String app = e.app() == null ? "" : e.app();
    switch (e.kind()) {
      case "FAILOVER" -> registry.counter("understudy_failovers", "app", app, "outcome", "started").increment();
      case "FAILBACK" -> registry.counter("understudy_failbacks", "app", app, "outcome", "started").increment();
      case "START_FAILED" -> registry.counter("understudy_failovers", "app", app, "outcome", "start_failed").increment();
      case "UNPLACED" -> registry.counter("understudy_failovers", "app", app, "outcome", "no_server").increment();
      default -> { }
    }
    registry.counter("understudy_events", "kind", e.kind()).increment();
  }

  /** 0 UP, 1 SUSPECT, 2 UNHEALTHY, 3 DOWN (this agent's verdict). */
  void verdict(String server, Verdict v) {
    int code = switch (v) {
      case UP -> 0;
      case SUSPECT -> 1;
      case UNHEALTHY -> 2;
      case DOWN -> 3;
    };
    verdicts.computeIfAbsent(server, s -> registry.gauge("understudy_server_verdict",
        io.micrometer.core.instrument.Tags.of("peer", s), new AtomicInteger())).set(code);
  }

  /** An API request answered: the refused ones (4xx: no or a wrong token, bad input, a conflict, too many) counted by status. */
  public void answered(int status) { answered(status, 1); }

  private void answered(int status, int n) {
    if (status >= 400 && status < 500) registry.counter("understudy_api_refused_requests", "status", String.valueOf(status)).increment(n);
  }

  /** An app this server's fence killed at its deadline. */
  void fenceKill(String tag) { registry.counter("understudy_fence_kills", "app", tag).increment(); }

  /** Every app's state, this round; the series of apps no longer in the database are dropped. */
  void appStates(Map<String, dev.understudy.model.App> apps) {
    for (dev.understudy.model.App a : apps.values()) appState(a.tag(), a.state());
    for (String gone : appStates.keySet()) {
      if (apps.containsKey(gone)) continue;
      appStates.remove(gone);
      for (String name : new String[] {"understudy_app_state", "understudy_failovers", "understudy_failbacks", "understudy_fence_kills"}) {
        registry.find(name).tag("app", gone).meters().forEach(registry::remove);
      }
    }
  }

  /** The peers' verdicts; the series of servers no longer members are dropped. */
  void verdicts(Map<String, Verdict> now) {
    now.forEach(this::verdict);
    for (String gone : verdicts.keySet()) {
      if (now.containsKey(gone)) continue;
      verdicts.remove(gone);
      registry.find("understudy_server_verdict").tag("peer", gone).meters().forEach(registry::remove);
    }
  }

  /** 0 RUNNING, 1 STARTING, 2 FAILBACK_PENDING, 3 UNLOADED, 4 UNPLACED, 5 FAILED. */
  void appState(String tag, dev.understudy.model.AppState s) {
    appStates.computeIfAbsent(tag, t -> registry.gauge("understudy_app_state",
        io.micrometer.core.instrument.Tags.of("app", t), new AtomicInteger())).set(switch (s) {
          case RUNNING -> 0;
          case STARTING -> 1;
          case FAILBACK_PENDING -> 2;
          case UNLOADED -> 3;
          case UNPLACED -> 4;
          case FAILED -> 5;
          case REMOVED -> 6;
        });
  }

  public String scrape() { return registry.scrape(); }
}
