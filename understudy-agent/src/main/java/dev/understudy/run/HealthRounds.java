package dev.understudy.run;

import dev.understudy.decide.Instance;
import dev.understudy.detect.Ticker;
import dev.understudy.model.HealthCheck;
import java.util.Collection;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One round of health over this server's instances, every 50 ms: a start becomes RUNNING once healthy (its service
 * port answers, or its health check passes), a start that is not healthy by its start timeout is killed as a failed
 * start, and a running app that fails its health check too often in a row is killed (a crash). Probes run on the
 * supervisor's workers, one at a time per instance, so a slow probe holds up no other app.
 */
final class HealthRounds {
  private static final Logger log = LoggerFactory.getLogger(HealthRounds.class);

  private final String address;
  private final AppSteps steps;
  private final Ticker ticker;
  private final Supervisor.Listener listener;
  private final ExecutorService workers;

  HealthRounds(String address, AppSteps steps, Ticker ticker, Supervisor.Listener listener, ExecutorService workers) {
    this.address = address;
    this.steps = steps;
    this.ticker = ticker;
    this.listener = listener;
    this.workers = workers;
  }

  void round(Collection<Proc> procs) {
    long now = ticker.nanos();
    for (Proc p : procs) {
      if (p.process == null || p.stopRequested) continue;
      if (startTimedOut(p, now)) continue;
      HealthCheck h = ResourceAgents.health(p.app);
      // an agent app has started once its start action succeeded (its driver says so); then its monitor is its health
      if (p.phase == Instance.Phase.STARTING && p.startedMarker != null && !java.nio.file.Files.exists(p.startedMarker)) continue;
      if (p.phase == Instance.Phase.STARTING && (h == null || ResourceAgents.isMonitor(h))) {
        boolean healthy = p.app.service() == null || AppSteps.tcpOpen(address, p.app.service().appPort());
        if (healthy && p.process.isAlive()) running(p);
        continue;
      }
      if (h == null || p.checking || now < p.nextCheck) continue;
      p.checking = true;
      p.nextCheck = now + TimeUnit.MILLISECONDS.toNanos(p.phase == Instance.Phase.STARTING ? 100 : h.interval());
      workers.execute(() -> probe(p, h));
    }
  }

  private void probe(Proc p, HealthCheck h) {
    try {
      boolean ok = steps.probe(p.app, h);
      if (ok) {
        p.failedChecks = 0;
        if (p.phase == Instance.Phase.STARTING && p.process.isAlive()) running(p);
      } else if (p.phase == Instance.Phase.RUNNING && ++p.failedChecks >= h.failuresAllowed() && !p.stopRequested) {
        log.warn("{} failed {} health checks in a row; killing it (counts as a crash)", p.app.tag(), p.failedChecks);
        listener.unhealthy(p.app.tag(), p.app.epoch(), "failed " + p.failedChecks + " health checks in a row");
        ProcessGroups.killGroup(p.pgid, "KILL");
      }
    } finally {
      p.checking = false;
    }
  }

  /**
   * Claim 57: a server that fails "to properly run" the app. A start that has not become healthy within the app's start
   * timeout is a failed start: its group is killed, and its exit counts as a failure here (retried after a backoff,
   * then passed over). A warm standby is exempt while it waits paused; its count starts when it is promoted.
   */
  private boolean startTimedOut(Proc p, long now) {
    if (p.phase != Instance.Phase.STARTING || p.standby || p.startTimedOut) return p.startTimedOut;
    long limit = TimeUnit.MILLISECONDS.toNanos(p.app.command().startTimeout());
    if (now - p.sinceNanos <= limit) return false;
    p.startTimedOut = true;
    String why = "did not become healthy within its start timeout (" + p.app.command().startTimeout() + " ms)";
    log.warn("{} {}; killing it (a failed start)", p.app.tag(), why);
    listener.startFailed(p.app.tag(), p.app.epoch(), why);
    ProcessGroups.killGroup(p.pgid, "KILL");
    return true;
  }

  private void running(Proc p) {
    p.phase = Instance.Phase.RUNNING;
    p.sinceNanos = ticker.nanos();
    if (!p.standby) listener.running(p.app.tag(), p.app.epoch());
    listener.changed();
  }
}
