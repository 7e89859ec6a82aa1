package dev.understudy.run;

import dev.understudy.decide.Instance;
import dev.understudy.model.App;
import java.util.function.BooleanSupplier;

/** One process of an app on this server, as the supervisor tracks it through its life. */
final class Proc {
  volatile App app; // replaced when a warm standby is promoted
  volatile boolean standby;
  volatile BooleanSupplier stillDecided = () -> true;
  volatile Process process; // null while its managed resources are being acquired
  volatile long pgid;
  /** Its cgroup, where the machine has cgroup v2 (null: contained by its process group only). */
  volatile java.nio.file.Path cgroup;
  /** A systemd unit app's unit cgroup (systemd runs its processes there, not in the app's): guarded and killed too. */
  volatile java.nio.file.Path unitCgroup;
  volatile Instance.Phase phase = Instance.Phase.STARTING;
  volatile long sinceNanos;
  volatile boolean stopRequested;
  volatile int acquired; // managed resources acquired so far, released in reverse
  volatile long nextCheck;
  volatile int failedChecks;
  volatile boolean checking;
  volatile boolean promoting; // acquiring its managed resources before it becomes the host's instance
  /** Managed resources whose release failed (indices into the app's managed list), retried until released. */
  final java.util.List<Integer> stuck = new java.util.concurrent.CopyOnWriteArrayList<>();
  volatile boolean startTimedOut;
  /** An agent app's driver was spawned: its agent's stop is confirmed after the process is gone. */
  volatile boolean agentToStop;
  /** Its death at the fence's deadline was reported (once, whichever of its exit and a stop request came first). */
  volatile boolean fenceKillReported;
  /** An agent app's start action succeeded when this file exists (null for a program). */
  volatile java.nio.file.Path startedMarker;
  final String token; // the instance's credential for the client API
  final java.util.concurrent.CompletableFuture<Void> unloadRequested = new java.util.concurrent.CompletableFuture<>();

  /** The cgroups whose processes are this instance's: its own and its unit's, where it has them. */
  java.util.List<java.nio.file.Path> cgroups() {
    java.nio.file.Path own = cgroup;
    java.nio.file.Path unit = unitCgroup;
    if (unit == null) return own == null ? java.util.List.of() : java.util.List.of(own);
    return own == null ? java.util.List.of(unit) : java.util.List.of(own, unit);
  }

  /** When this instance began (a fence kill after it is this instance's death, not an earlier one's). */
  final long createdNanos;

  Proc(App app, long now) { this(app, now, java.util.UUID.randomUUID().toString()); }

  /** An instance with the credential it was started with (one adopted after a restart of the agent). */
  Proc(App app, long now, String token) {
    this.app = app;
    this.sinceNanos = now;
    this.createdNanos = now;
    this.token = token;
  }
}
