package dev.understudy.run;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spawns one instance of an app: its launcher in a new process group (and the app's cgroup), as the app's account,
 * with its clean environment, then lets the program run only once the fence guards it.
 */
final class Spawner {
  private static final Logger log = LoggerFactory.getLogger(Spawner.class);
  /** Found on PATH once: a spawn by bare name tries every PATH entry in turn (nine failed execs each here). */
  private static final String SETSID = ProcessGroups.onPath("setsid");
  private static final String SH = ProcessGroups.onPath("sh");

  private final AppSteps steps;
  private final AgentDriver agentDriver;
  private final Path launchScript;
  private final AppCgroups cgroups;
  private final Fence fence;
  private final Path dataDir;
  private final LongSupplier runUntil;

  Spawner(AppSteps steps, AgentDriver agentDriver, Path launchScript, AppCgroups cgroups, Fence fence, Path dataDir,
          LongSupplier runUntil) {
    this.steps = steps;
    this.agentDriver = agentDriver;
    this.launchScript = launchScript;
    this.cgroups = cgroups;
    this.fence = fence;
    this.dataDir = dataDir;
    this.runUntil = runUntil;
  }

  /** Spawns {@code proc}'s instance, its output appended to {@code out}; its launcher exits at once if not guarded. */
  Process spawn(Proc proc, Path out) throws IOException {
    var app = proc.app;
    // setsid: the launcher leads a new process group (pgid = its pid), which the fence guards before the program
    // is allowed to run: a launcher told nothing (the agent froze or died right after spawning it) runs nothing.
    RunAs who = steps.accounts.of(app);
    // the cgroup exists before the spawn; the launcher moves itself into it before it runs anything
    Path cg = cgroups == null ? null : cgroups.create(app.tag());
    List<String> cmd = new ArrayList<>(List.of(SETSID, SH, launchScript.toString(), cg == null ? "-" : cg.toString(), "--"));
    if (who != null) cmd.addAll(who.prefix());
    Path wd = steps.workDir(app);
    Files.createDirectories(wd);
    if (who != null && app.command().workDir() == null) AppAccounts.give(wd, who); // its own working directory
    Map<String, String> env = steps.environment(app);
    var agent = ResourceAgents.of(app);
    if (agent.isPresent()) {
      if (agent.get().standard() == dev.understudy.model.AgentSpec.Standard.SYSTEMD) {
        // before the start: the fence guards where the unit will run, and systemd will not restart it after a kill
        proc.unitCgroup = steps.agents.systemd().takeOver(agent.get().type());
      }
      proc.startedMarker = agentDriver.prepare(app, who);
      cmd.addAll(steps.agents.driverArgv(agentDriver.script(), agent.get(), app, proc.startedMarker));
      env.putAll(steps.agents.environment(agent.get(), app.tag()));
      proc.agentToStop = true;
    } else {
      cmd.addAll(app.command().argv());
    }
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.directory(wd.toFile());
    pb.environment().clear();
    pb.environment().putAll(RunAs.cleanEnvironment(who, wd, env));
    pb.environment().put("UNDERSTUDY_APP_TOKEN", proc.token);
    if (proc.standby) pb.environment().put("UNDERSTUDY_STANDBY", "1");
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()));
    Process p = pb.start();
    // The JDK keeps a pipe end per child even with output redirected to a file: 1,000 apps held 1,000 descriptors,
    // and every spawn got slower (a child closes each inherited descriptor before exec: 500 spawns took 2.7 s with
    // 2,000 open, 1.2 s with none), and an agent under the usual limit of 1,024 would fail to start more.
    p.getInputStream().close();
    p.getErrorStream().close();
    proc.pgid = p.pid();
    proc.process = p;
    ProcessGroups.writePidFile(dataDir.resolve("run").resolve(app.tag() + ".pid"), p.pid());
    proc.cgroup = cg;
    boolean guarded = fence.guard(p.pid(), proc.cgroups(), runUntil.getAsLong());
    try (OutputStream go = p.getOutputStream()) {
      if (guarded) go.write("go\n".getBytes(StandardCharsets.US_ASCII));
    } catch (IOException e) {
      guarded = false; // the launcher is already gone; onExit reports it
    }
    if (!guarded) log.error("the fence cannot guard {}: not running it (its launcher exits)", app.tag());
    else log.info("started {} (epoch {}{}) as process group {}", app.tag(), app.epoch(), proc.standby ? ", warm standby" : "", p.pid());
    return p;
  }
}
