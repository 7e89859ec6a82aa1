package dev.understudy.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.understudy.decide.Instance;
import dev.understudy.model.App;
import dev.understudy.store.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Apps that an earlier life of this agent left running when it stopped to restart (an upgrade, a configuration
 * change), guarded meanwhile by its held fence until the parting lease's deadline. Each is adopted, not restarted: the
 * same process (its pid and start time checked), at the epoch it was started at, with its credential for the client
 * API, its cgroup and its managed resources; it is guarded by this life's fence before the held fence is let go.
 * Anything that cannot be adopted is killed and its resources released, as after a crash of the agent. Whether an
 * adopted instance may keep running is the decision rules' (R1, R2) once the loop runs, as for any instance.
 */
final class Adopter {
  private static final Logger log = LoggerFactory.getLogger(Adopter.class);

  /**
   * What is kept beside an instance's pid file for a later life: its app as started, its credential, its cgroup (and
   * its systemd unit's).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Saved(App app, String token, String cgroup, boolean standby, String unitCgroup) {}

  private final Path runDir;

  Adopter(Path runDir) { this.runDir = runDir; }

  private Path savedFile(String tag) { return runDir.resolve(tag + ".instance"); }

  /** Written when an instance is spawned or promoted (atomically: a restart may come at any moment). */
  void save(Proc p) {
    try {
      Path f = savedFile(p.app.tag());
      Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
      Files.writeString(tmp, Json.write(new Saved(p.app, p.token, p.cgroup == null ? null : p.cgroup.toString(), p.standby,
          p.unitCgroup == null ? null : p.unitCgroup.toString())));
      Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    } catch (IOException | UnsupportedOperationException e) {
      log.warn("cannot save {} for a later life of this agent ({}): a restart will restart it", p.app.tag(), e.toString());
    }
  }

  void forget(String tag) {
    try {
      Files.deleteIfExists(savedFile(tag));
    } catch (IOException ignored) {
      // harmless: overwritten at the next start
    }
  }

  /**
   * Kills the systemd units an earlier life of this agent ran, when nothing is to be adopted (it did not stop to
   * restart): its fence should have killed them, but one killed with it (the OOM killer, a kill of both) left them
   * running unguarded, while a backup may have started them since. A unit's cgroup is systemd's: only its processes go.
   */
  void killLeftoverUnits() throws IOException {
    try (var files = Files.list(runDir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".instance")).toList()) {
        try {
          Saved saved = Json.read(Files.readString(f), Saved.class);
          if (saved.unitCgroup() == null) continue;
          Path unit = Path.of(saved.unitCgroup());
          if (!AppCgroups.empty(unit)) log.warn("killing {} process(es) of a unit left over from an earlier run in {}", AppCgroups.pids(unit).size(), unit);
          AppCgroups.kill(unit);
        } catch (RuntimeException e) {
          log.warn("{}: unreadable ({}); a unit it names is not killed", f.getFileName(), e.toString());
        }
      }
    }
  }

  /**
   * Adopts every instance the held fence guards whose process still runs, guarding it here until {@code runUntil};
   * kills the rest. Returns the adopted instances, RUNNING.
   */
  List<Proc> adopt(Fence fence, FenceReleases releases, LongSupplier runUntil, long now) throws IOException {
    List<Proc> adopted = new ArrayList<>();
    try (var files = Files.list(runDir)) {
      for (Path pidFile : files.filter(p -> p.toString().endsWith(".pid")).toList()) {
        String tag = pidFile.getFileName().toString().replaceFirst("\\.pid$", "");
        Proc p = adoptOne(tag, pidFile, fence, runUntil, now);
        if (p != null) {
          adopted.add(p);
          Path release = runDir.resolve(tag + ".release");
          if (Files.exists(release)) fence.registerRelease(tag, release, runUntil.getAsLong());
        }
      }
    }
    return adopted;
  }

  private Proc adoptOne(String tag, Path pidFile, Fence fence, LongSupplier runUntil, long now) throws IOException {
    ProcessGroups.Recorded r = ProcessGroups.readPidFile(pidFile);
    Saved saved = null;
    try {
      if (Files.exists(savedFile(tag))) saved = Json.read(Files.readString(savedFile(tag)), Saved.class);
    } catch (RuntimeException e) {
      log.warn("{}: its saved instance is unreadable ({}); not adopted", tag, e.toString());
    }
    var handle = ProcessHandle.of(r.pid());
    if (!r.sameProcessRuns() || saved == null || saved.standby() || handle.isEmpty()) {
      if (r.groupMayBeOurs()) ProcessGroups.killGroup(r.pid(), "KILL");
      if (saved != null && saved.cgroup() != null) AppCgroups.kill(Path.of(saved.cgroup()));
      if (saved != null && saved.unitCgroup() != null) AppCgroups.kill(Path.of(saved.unitCgroup()));
      Files.deleteIfExists(pidFile);
      forget(tag);
      log.info("{}: not adopted ({}); killed", tag, !r.sameProcessRuns() ? "its process is gone" : saved == null
          ? "nothing saved" : saved.standby() ? "a warm standby" : "gone");
      return null;
    }
    Proc p = new Proc(saved.app(), now, saved.token());
    p.pgid = r.pid();
    p.cgroup = saved.cgroup() == null ? null : Path.of(saved.cgroup());
    p.unitCgroup = saved.unitCgroup() == null ? null : Path.of(saved.unitCgroup());
    p.process = new AdoptedProcess(handle.get());
    p.phase = Instance.Phase.RUNNING;
    p.acquired = Files.exists(runDir.resolve(tag + ".release")) ? AppSteps.managedOf(saved.app()).size() : 0;
    p.agentToStop = ResourceAgents.of(saved.app()).isPresent();
    if (!fence.guard(p.pgid, p.cgroups(), runUntil.getAsLong())) throw new IOException("the fence cannot guard " + tag);
    log.info("adopted {} (epoch {}) as process group {}, left running by this agent's earlier life", tag,
        saved.app().epoch(), p.pgid);
    return p;
  }
}
