package dev.understudy.run;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** How an app's process group is stopped and verified gone, so the app may be handed over (claims 9, 16). */
final class ProcessStop {
  private static final Logger log = LoggerFactory.getLogger(ProcessStop.class);

  private final Fence fence;
  private final Path dataDir;
  private final AppSteps steps;

  ProcessStop(Fence fence, Path dataDir, AppSteps steps) {
    this.fence = fence;
    this.dataDir = dataDir;
    this.steps = steps;
  }

  /**
   * Asks the app to go (an aware app's unload request, else its stop command or SIGTERM to its group), waits up to its
   * stop timeout, then kills and verifies gone whatever is left (claims 9, 16).
   */
  void stopAndVerify(Proc p) {
    long timeoutMs = p.app.command().stopTimeout();
    List<String> stopCmd = p.app.command().stopCommand();
    boolean unloaded = false;
    if (p.app.type() == dev.understudy.model.AppType.AWARE) {
      // FIG. 3D, claim 48: ask the aware app to save its marker and unload itself; fall back to stopping it
      p.unloadRequested.complete(null);
      unloaded = awaitGroupGone(p, timeoutMs);
      if (!unloaded) log.warn("{} did not unload itself within {} ms; stopping it", p.app.tag(), timeoutMs);
    }
    // the kernel's view too: after a freeze the JVM may not have reaped the killed leader yet (a zombie)
    if (!unloaded && (!p.process.isAlive() || !ProcessGroups.alive(p.pgid))) {
      // Its program is gone already (the fence killed it while this agent was frozen, or it crashed a moment ago):
      // there is nothing to ask to stop, and a stop command could only do harm. One that acts on shared state
      // (pg_ctl reads the pid file in a data directory every server sees) stopped the instance another server had
      // started since. What is left of the group is killed below.
      unloaded = true;
    }
    if (!unloaded) {
      if (stopCmd != null && !stopCmd.isEmpty()) {
        // as the app's account: the stop command is part of the app, and gets no more of the agent's than the app
        String failed = steps.runAsApp(p.app, stopCmd, timeoutMs, dataDir.resolve("logs").resolve(p.app.tag() + ".log"));
        if (failed != null) log.warn("stop command of {} failed: {}", p.app.tag(), failed);
      } else if (p.startedMarker != null) {
        // an agent app: its driver runs the agent's stop action, which stops what the start started
        ProcessHandle.of(p.pgid).ifPresent(ProcessHandle::destroy);
        timeoutMs += 2000; // the driver's own bound is the stop timeout, rounded up to seconds
      } else {
        ProcessGroups.killGroup(p.pgid, "TERM");
        if (p.cgroup != null) AppCgroups.signalAll(p.cgroup, "TERM"); // those that left the group are the app's too
      }
      if (!awaitGroupGone(p, timeoutMs)) log.warn("{} did not stop within {} ms; killing its process group", p.app.tag(), timeoutMs);
    }
    killAndVerifyGone(p);
  }

  /**
   * Claims 9, 16 ("verifying that the program has been unloaded"): SIGKILL whatever is left of the group until no
   * process of it remains, then stop guarding it. A group that survives SIGKILL (uninterruptible I/O) stays guarded.
   */
  void killAndVerifyGone(Proc proc) {
    long pgid = proc.pgid;
    List<Path> cgs = proc.cgroups();
    if (!awaitExit(proc.process, 0)) ProcessGroups.killGroup(pgid, "KILL");
    cgs.forEach(AppCgroups::kill); // a unit's too: what its stop left there (KillMode=process) is the app's
    awaitExit(proc.process, 10_000);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    long scanAfter = System.nanoTime();
    while (ProcessGroups.anyInGroup(pgid, scanAfter) || !cgs.stream().allMatch(AppCgroups::empty)) {
      ProcessGroups.killGroup(pgid, "KILL");
      cgs.forEach(AppCgroups::kill);
      if (System.nanoTime() > deadline) {
        log.error("process group {} of {} survives SIGKILL (uninterruptible I/O?)", pgid, proc.app.tag());
        return;
      }
      sleep(10);
      scanAfter = System.nanoTime();
    }
    if (proc.cgroup != null) AppCgroups.remove(proc.cgroup); // a unit's is systemd's to remove
    fence.forget(pgid);
  }
  /**
   * Waits up to {@code ms} for the group to end by itself: first its leader (without polling), then any process it
   * left behind. True when nothing of it is left.
   */
  static boolean awaitGroupGone(Proc p, long ms) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    if (!awaitExit(p.process, ms)) return false;
    while (true) {
      long scan = System.nanoTime();
      if (!ProcessGroups.anyInGroup(p.pgid, scan) && p.cgroups().stream().allMatch(AppCgroups::empty)) return true;
      if (scan > deadline) return false;
      sleep(20);
    }
  }
  static boolean awaitExit(Process p, long ms) {
    try {
      return p.waitFor(ms, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !p.isAlive();
    }
  }
  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
