package dev.understudy.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.understudy.decide.Instance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * systemd units as apps, on real processes and real cgroups. The machines this project is tested on do not run systemd
 * as PID 1, so systemctl is a stand-in that keeps systemd's contract as the agent uses it: {@code show} of LoadState,
 * UnitFileState, Slice and ControlGroup, {@code start} runs the unit's command in the unit's own cgroup (in a session
 * of its own, out of the app's process group and cgroup, as systemd's children are), {@code stop}, {@code is-active}.
 * What is real is what the one-host guarantee rests on: the unit's processes are out of the app's reach but for the
 * unit's cgroup, which the agent's stop, crash clean-up and fence kill through {@code cgroup.kill}.
 */
class SystemdUnitsTest extends SupervisorFixture {
  static final String SYSTEMCTL = """
      #!/bin/bash
      units=%1$s mount=%2$s slice=%3$s slicepath=%4$s calls=%5$s runtime=%6$s
      echo "$*" >> "$calls"
      prop() { sed -n "s/^$2=//p" "$units/$1" | head -1; }
      cg() { echo "$mount$slicepath/$1"; }
      active() { [ -n "$(cat "$(cg "$1")/cgroup.procs" 2>/dev/null)" ]; } # cgroup files have no size
      case "$1" in
        show)
          unit=$4
          if [ ! -f "$units/$unit" ]; then printf 'LoadState=not-found\\nUnitFileState=\\nSlice=\\nControlGroup=\\n'; exit 0; fi
          echo "LoadState=loaded"
          [ "$(prop "$unit" Enabled)" = yes ] && echo "UnitFileState=enabled" || echo "UnitFileState=disabled"
          echo "Slice=$slice"
          # Restart=: a later drop-in (the unit's "LaterRestart=") wins over the cluster's, which wins over the unit
          restart=$(prop "$unit" LaterRestart)
          [ -z "$restart" ] && grep -qs '^Restart=no' "$runtime/$unit.d/"*.conf && restart=no
          echo "Restart=${restart:-$(prop "$unit" Restart)}"
          if active "$unit"; then echo "ControlGroup=$slicepath/$unit"; else echo "ControlGroup="; fi
          exit 0 ;;
        daemon-reload|reset-failed) exit 0 ;;
        start)
          unit=$2
          [ -f "$units/$unit" ] || exit 5
          active "$unit" && exit 0
          mkdir -p "$(cg "$unit")"
          setsid bash -c 'echo $$ > "$1/cgroup.procs"; exec bash -c "$2"' _ "$(cg "$unit")" "$(prop "$unit" ExecStart)" \\
            < /dev/null > /dev/null 2>&1 &
          echo $! > "$units/$unit.main"
          for _ in $(seq 100); do active "$unit" && exit 0; sleep 0.05; done
          exit 1 ;;
        stop)
          unit=$2
          active "$unit" && echo "stop found $unit running" >> "$calls"
          if [ "$(prop "$unit" KillMode)" = process ]; then kill -TERM "$(cat "$units/$unit.main")" 2>/dev/null
          else for p in $(cat "$(cg "$unit")/cgroup.procs" 2>/dev/null); do kill -TERM "$p"; done; fi
          exit 0 ;;
        is-active) active "$3" && exit 0; exit 3 ;;
      esac
      exit 1
      """;

  Path mount;
  Path units;
  Path runtime;
  Path calls;
  /** The stand-in's slice: nested in a slice of the test's own, as systemd names nested slices. */
  String slice;
  SystemdUnits systemd;

  @BeforeEach
  void standIn() throws Exception {
    assumeTrue(AppCgroups.usable().isPresent(), "cgroup v2 not usable here: " + AppCgroups.whyNot());
    mount = AppCgroups.cgroup2Mount().orElseThrow();
    units = Files.createDirectories(dir.resolve("units"));
    runtime = Files.createDirectories(dir.resolve("run-systemd-system"));
    calls = dir.resolve("systemctl.calls");
    slice = "understudytest-" + Long.toHexString(System.nanoTime()) + ".slice";
    Path systemctl = dir.resolve("systemctl");
    Files.writeString(systemctl, SYSTEMCTL.formatted(units, mount, slice, SystemdUnits.slicePath(slice), calls, runtime));
    Files.setPosixFilePermissions(systemctl, PosixFilePermissions.fromString("rwxr-xr-x"));
    systemd = new SystemdUnits(systemctl.toString(), runtime, Optional.of(mount));
  }

  @AfterEach
  void removeSlices() throws Exception {
    if (mount == null) return;
    Path top = mount.resolve("understudytest.slice");
    if (!Files.isDirectory(top)) return;
    try (var walk = Files.walk(top)) {
      for (Path cg : walk.filter(Files::isDirectory).sorted(java.util.Comparator.reverseOrder()).toList()) {
        AppCgroups.kill(cg);
        await().atMost(Duration.ofSeconds(5)).until(() -> AppCgroups.empty(cg));
        AppCgroups.remove(cg);
      }
    }
  }

  void unit(String name, String... lines) throws Exception {
    Files.writeString(units.resolve(name), String.join("\n", lines) + "\n");
  }

  Path unitCgroup(String unit) { return mount.resolve(SystemdUnits.slicePath(slice).substring(1)).resolve(unit); }

  void startWithUnits() throws Exception {
    start();
    sup.agents(new ResourceAgents(null, dir.resolve("init.d"), systemd));
  }

  void startUnitApp(String tag, String unit) {
    sup.start(ResourceAgentsTest.agentApp(tag, ResourceAgentsTest.FAST_MONITOR, "systemd:" + unit));
    await().atMost(Duration.ofSeconds(10)).until(() -> sup.instances().get(tag) != null
        && sup.instances().get(tag).phase() == Instance.Phase.RUNNING);
  }

  long unitProcess(String unit) {
    List<Long> pids = AppCgroups.pids(unitCgroup(unit));
    assertThat(pids).as("the unit runs in its own cgroup").isNotEmpty();
    return pids.get(0);
  }

  static long pgidOf(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[2]);
  }

  @Test
  void aUnitStartsThroughSystemctlRunsOutOfTheAppsGroupAndStopsThroughIt() throws Exception {
    unit("web.service", "ExecStart=sleep 1000");
    startWithUnits();
    startUnitApp("web", "web.service");
    long pid = unitProcess("web.service");
    assertThat(pgidOf(pid)).as("systemd's child is in no process group of the app's").isNotEqualTo(ProcessGroups.readPidFile(dir.resolve("run/web.pid")).pid());
    assertThat(Files.readString(runtime.resolve("web.service.d").resolve(SystemdUnits.DROP_IN)))
        .as("systemd may not restart what the fence kills").contains("Restart=no");
    assertThat(Files.readAllLines(calls)).contains("daemon-reload", "start web.service");
    await("its health is systemd's word").atMost(Duration.ofSeconds(5))
        .until(() -> Files.readAllLines(calls).contains("is-active --quiet web.service"));

    sup.stop("web", "test");
    await().atMost(Duration.ofSeconds(10)).until(() -> sup.instances().isEmpty());
    assertThat(Files.readAllLines(calls)).contains("stop web.service");
    assertThat(ProcessGroups.alive(pid)).isFalse();
    assertThat(exits).containsExactly("web:false:0");
  }

  @Test
  void aUnitDiesWithItsAppWhenTheLeaseRunsOutBeforeAnyStopThroughSystemd() throws Exception {
    unit("db.service", "ExecStart=sleep 1000");
    startWithUnits();
    startUnitApp("db", "db.service");
    long pid = unitProcess("db.service");
    mayRun.set(false); // the lease is no longer renewed: the fence kills at its deadline, whatever the agent does
    await().atMost(Duration.ofSeconds(5)).until(() -> !ProcessGroups.alive(pid));
    assertThat(Files.readAllLines(calls)).as("killed by the fence, before any stop through systemd").doesNotContain("stop found db.service running");
  }

  @Test
  void whatAUnitsStopLeavesInItsCgroupIsKilledBeforeTheAppCountsAsStopped() throws Exception {
    // KillMode=process: systemd's stop ends the main process only, and a child it started runs on in the unit's cgroup
    unit("leaky.service", "ExecStart=setsid sleep 1000 & exec sleep 1000", "KillMode=process");
    startWithUnits();
    var leaky = ResourceAgentsTest.agentApp("leaky", ResourceAgentsTest.FAST_MONITOR, "systemd:leaky.service");
    sup.start(leaky.withCommand(leaky.command().withTimeouts(10_000L, 1_000L)));
    await().atMost(Duration.ofSeconds(10)).until(() -> sup.instances().get("leaky") != null
        && sup.instances().get("leaky").phase() == Instance.Phase.RUNNING);
    await().atMost(Duration.ofSeconds(5)).until(() -> AppCgroups.pids(unitCgroup("leaky.service")).size() == 2);
    sup.stop("leaky", "test");
    await().atMost(Duration.ofSeconds(15)).until(() -> sup.instances().isEmpty());
    assertThat(AppCgroups.pids(unitCgroup("leaky.service"))).as("nothing of the unit runs on after the app stopped").isEmpty();
    assertThat(Files.readAllLines(calls)).contains("stop found leaky.service running");
  }

  @Test
  void aUnitThatDiesBehindTheAgentsBackIsACrash() throws Exception {
    unit("cache.service", "ExecStart=sleep 1000");
    startWithUnits();
    startUnitApp("cache", "cache.service");
    ProcessHandle.of(unitProcess("cache.service")).orElseThrow().destroyForcibly();
    await().atMost(Duration.ofSeconds(10)).until(() -> exits.stream().anyMatch(e -> e.startsWith("cache:true:")));
  }

  @Test
  void anAdoptedUnitAppIsStillFencedThroughItsUnitsCgroup() throws Exception {
    unit("kept.service", "ExecStart=sleep 1000");
    startWithUnits();
    startUnitApp("kept", "kept.service");
    long pid = unitProcess("kept.service");
    sup.holdForRestart(System.nanoTime() + 20_000_000_000L); // the agent stops to restart: its apps run on
    start(); // its next life
    sup.agents(new ResourceAgents(null, dir.resolve("init.d"), systemd));
    sup.adoptLeftovers();
    assertThat(sup.instances()).containsKey("kept");
    assertThat(ProcessGroups.alive(pid)).as("adopted, not restarted").isTrue();
    mayRun.set(false);
    await().atMost(Duration.ofSeconds(5)).until(() -> !ProcessGroups.alive(pid));
  }

  @Test
  void aUnitLeftRunningByALifeWhoseFenceDiedWithItIsKilledAtTheNextStart() throws Exception {
    unit("orphan.service", "ExecStart=sleep 1000");
    startWithUnits();
    startUnitApp("orphan", "orphan.service");
    long pid = unitProcess("orphan.service");
    sup.holdForRestart(System.nanoTime() + 20_000_000_000L);
    // the held fence is killed too (the OOM killer, a kill of both): nothing guards the unit, nothing is adopted
    long fence = ProcessGroups.readPidFile(dir.resolve("fence.pid")).pid();
    ProcessHandle.of(fence).orElseThrow().destroyForcibly();
    await().atMost(Duration.ofSeconds(5)).until(() -> !ProcessGroups.alive(fence));
    assertThat(ProcessGroups.alive(pid)).as("the unit outlived its guard").isTrue();
    start(); // the next life
    assertThat(ProcessGroups.alive(pid)).as("killed before this life runs anything").isFalse();
  }

  @Test
  void aUnitThatALaterDropInStillRestartsIsNotStarted() throws Exception {
    unit("stubborn.service", "ExecStart=sleep 1000", "Restart=always", "LaterRestart=on-failure");
    unit("plain.service", "ExecStart=sleep 1000", "Restart=always");
    startWithUnits();
    startUnitApp("plain", "plain.service"); // the cluster's drop-in turns its own Restart=always off
    sup.start(ResourceAgentsTest.agentApp("stubborn", ResourceAgentsTest.FAST_MONITOR, "systemd:stubborn.service"));
    await().atMost(Duration.ofSeconds(10)).until(() -> startFailures.stream().anyMatch(f -> f.startsWith("stubborn: ")));
    assertThat(startFailures).anyMatch(f -> f.contains("Restart=on-failure despite the cluster's drop-in"));
    assertThat(Files.readAllLines(calls)).doesNotContain("start stubborn.service");
  }

  @Test
  void aServerQualifiesForAUnitOnlyWhenSystemdCanRunItAndTheClusterAloneStartsIt() throws Exception {
    unit("ok.service", "ExecStart=sleep 1000");
    unit("boot.service", "ExecStart=sleep 1000", "Enabled=yes");
    assertThat(systemd.unavailable("ok.service")).isNull();
    assertThat(systemd.unavailable("missing.service")).contains("missing.service is not installed here");
    assertThat(systemd.unavailable("boot.service")).contains("at boot").contains("systemctl disable boot.service");
    assertThat(new SystemdUnits("systemctl", dir.resolve("no-such-dir"), Optional.of(mount)).unavailable("ok.service"))
        .as("where systemd is not PID 1").contains("systemd is not running on this server (it is not PID 1)");
    assertThat(new SystemdUnits("systemctl", runtime, Optional.empty()).unavailable("ok.service"))
        .as("where no cgroup could be killed").contains("could not be fenced");
  }

  @Test
  void slicesNestAtEachDash() {
    assertThat(SystemdUnits.slicePath("-.slice")).isEmpty();
    assertThat(SystemdUnits.slicePath("")).isEmpty();
    assertThat(SystemdUnits.slicePath("system.slice")).isEqualTo("/system.slice");
    assertThat(SystemdUnits.slicePath("user-1000.slice")).isEqualTo("/user.slice/user-1000.slice");
    assertThat(SystemdUnits.slicePath("a-b-c.slice")).isEqualTo("/a.slice/a-b.slice/a-b-c.slice");
  }
}
