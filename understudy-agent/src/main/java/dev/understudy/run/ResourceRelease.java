package dev.understudy.run;

import dev.understudy.model.ManagedResource;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After an app's process is verified gone: release its managed resources, then forget it and report. A resource that
 * cannot be released (a busy mount, an address the kernel keeps) keeps the app on this server as STOPPING, so it is
 * neither handed over nor restarted while this server may still hold its mount or address; the release is retried
 * every 2 s and an operator is told (RELEASE_FAILED).
 */
final class ResourceRelease {
  private static final Logger log = LoggerFactory.getLogger(ResourceRelease.class);

  private final AppSteps steps;
  private final Path dataDir;
  private final Supervisor.Listener listener;
  private final ScheduledExecutorService timer;
  private final ExecutorService workers;
  private final Consumer<Proc> finish;

  /** {@code finish}: forgets the process (its resources released). */
  ResourceRelease(AppSteps steps, Path dataDir, Supervisor.Listener listener, ScheduledExecutorService timer,
                  ExecutorService workers, Consumer<Proc> finish) {
    this.steps = steps;
    this.dataDir = dataDir;
    this.listener = listener;
    this.timer = timer;
    this.workers = workers;
    this.finish = finish;
  }

  void thenFinish(Proc proc, Runnable report) {
    Path logFile = dataDir.resolve("logs").resolve(proc.app.tag() + ".log");
    if (steps.releaseAll(proc, logFile)) {
      finish.accept(proc);
      report.run();
      return;
    }
    proc.stopRequested = true;
    proc.phase = dev.understudy.decide.Instance.Phase.STOPPING;
    List<ManagedResource> m = AppSteps.releasable(proc.app);
    String names = String.join(", ", proc.stuck.stream().map(i -> m.get(i).name()).toList());
    listener.releaseFailed(proc.app.tag(), proc.app.epoch(), "could not release " + names
        + " after stopping it; it stays here, stopping, and the release is retried every 2 s (see its log)");
    listener.changed();
    retry(proc, report, logFile);
  }

  private void retry(Proc proc, Runnable report, Path logFile) {
    try {
      timer.schedule(() -> workers.execute(() -> {
        if (steps.releaseAll(proc, logFile)) {
          log.info("released the managed resources of {} at last", proc.app.tag());
          finish.accept(proc);
          report.run();
          listener.changed();
        } else {
          retry(proc, report, logFile);
        }
      }), 2, TimeUnit.SECONDS);
    } catch (RejectedExecutionException closing) {
      // the supervisor is closing
    }
  }
}
