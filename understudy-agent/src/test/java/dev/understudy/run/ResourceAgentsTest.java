package dev.understudy.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.understudy.decide.Instance;
import dev.understudy.model.App;
import dev.understudy.model.AppType;
import dev.understudy.model.Command;
import dev.understudy.model.HealthCheck;
import dev.understudy.model.ManagedResource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * OCF resource agents and LSB scripts as apps and managed resources, on real processes: Debian's own Dummy agent
 * (resource-agents) where installed, and a scripted agent of the test's own for each exit code.
 */
class ResourceAgentsTest extends SupervisorFixture {
  static final Path DEBIAN_OCF = Path.of("/usr/lib/ocf");

  /**
   * An OCF agent whose every action does what its parameters say: start_rc, and daemon (a pid file: start leaves a
   * process of its own session behind, as a daemon does). Its state is a file, like Dummy's; its stop fails while a
   * file STATE.stopfail exists.
   */
  static final String SCRIPTED = """
      #!/bin/sh
      state=${OCF_RESKEY_state:-/nonexistent}
      case "$1" in
        meta-data) echo '<resource-agent name="Scripted"><parameters><parameter name="state" required="1"/>'\\
      '<parameter name="start_rc"/><parameter name="daemon"/></parameters><actions>'\\
      '<action name="start" timeout="7s"/><action name="stop" timeout="9s"/></actions></resource-agent>'; exit 0 ;;
        start)
          [ "${OCF_RESKEY_start_rc:-0}" = 0 ] || exit "$OCF_RESKEY_start_rc"
          [ -n "$OCF_RESKEY_daemon" ] && { setsid sleep 1000 & echo $! > "$OCF_RESKEY_daemon"; }
          touch "$state"; exit 0 ;;
        stop)
          [ -f "$state.stopfail" ] && exit 1
          echo "stop ran as $OCF_RESOURCE_INSTANCE" >> "$state.log"; rm -f "$state"; exit 0 ;;
        monitor) [ -f "$state" ] && exit 0; exit 7 ;;
      esac
      exit 3
      """;

  Path ocfRoot() throws Exception {
    Path root = dir.resolve("ocf");
    Path agent = root.resolve("resource.d/test/Scripted");
    Files.createDirectories(agent.getParent());
    Files.writeString(agent, SCRIPTED);
    Files.setPosixFilePermissions(agent, PosixFilePermissions.fromString("rwxr-xr-x"));
    return root;
  }

  static App agentApp(String tag, HealthCheck monitor, String... argv) {
    return App.create(tag, AppType.CAPABLE, new Command(List.of(argv), null, Map.of(), List.of(), 3000L, monitor, 10_000L),
        "s1", List.of("s2"), List.of(), false, null, Map.of());
  }

  static final HealthCheck FAST_MONITOR = new HealthCheck(null, null, null, 200L, 5000L, 1);

  void awaitRunning(String tag) {
    await().atMost(Duration.ofSeconds(10)).until(() -> sup.instances().get(tag) != null
        && sup.instances().get(tag).phase() == Instance.Phase.RUNNING);
  }

  @Test
  void debiansDummyAgentStartsRunsAndStopsThroughItsActions() throws Exception {
    assumeTrue(Files.isExecutable(DEBIAN_OCF.resolve("resource.d/heartbeat/Dummy")), "resource-agents is not installed (apt-get install resource-agents)");
    start();
    Path state = dir.resolve("dummy.state");
    sup.start(agentApp("dummy", FAST_MONITOR, "ocf:heartbeat:Dummy", "state=" + state));
    awaitRunning("dummy");
    assertThat(state).as("Dummy's start ran with OCF_RESKEY_state").exists();
    sup.stop("dummy", "test");
    await().atMost(Duration.ofSeconds(10)).until(() -> sup.instances().isEmpty());
    assertThat(state).as("its stop ran").doesNotExist();
    assertThat(exits).containsExactly("dummy:false:0");
  }

  @Test
  void aMonitorThatFindsTheResourceStoppedIsACrash() throws Exception {
    start();
    sup.ocfRoot(ocfRoot());
    Path state = dir.resolve("s.state");
    sup.start(agentApp("mon", FAST_MONITOR, "ocf:test:Scripted", "state=" + state));
    awaitRunning("mon");
    Files.delete(state); // the resource went away behind the agent's back: monitor says 7, not running
    await().atMost(Duration.ofSeconds(10)).until(() -> exits.stream().anyMatch(e -> e.startsWith("mon:true:")));
  }

  @Test
  void notInstalledAndNotConfiguredMakeTheServerNotQualifyUntilReset() throws Exception {
    start();
    sup.ocfRoot(ocfRoot());
    for (int rc : new int[] {5, 6}) {
      App app = agentApp("refused" + rc, FAST_MONITOR, "ocf:test:Scripted", "state=" + dir.resolve("r.state"), "start_rc=" + rc);
      sup.start(app);
      await().atMost(Duration.ofSeconds(10)).until(() -> exits.contains("refused" + rc + ":true:" + rc));
      assertThat(sup.agents().unmet(app)).singleElement().asString()
          .contains(rc == 5 ? "not installed" : "not configured").contains("app reset refused" + rc);
      assertThat(startFailures).anyMatch(f -> f.startsWith("refused" + rc + ": ") && f.contains("exit " + rc));
      assertThat(sup.agents().unmet(app.withFailuresReset())).as("an operator's reset lets it try again").isEmpty();
    }
    assertThat(dir.resolve("r.state.log")).as("an agent that refused to start is not stopped").doesNotExist();
  }

  @Test
  void aGenericStartFailureIsAnOrdinaryFailedStart() throws Exception {
    start();
    sup.ocfRoot(ocfRoot());
    App app = agentApp("generic", FAST_MONITOR, "ocf:test:Scripted", "state=" + dir.resolve("g.state"), "start_rc=1");
    sup.start(app);
    await().atMost(Duration.ofSeconds(10)).until(() -> exits.contains("generic:true:1"));
    assertThat(sup.agents().unmet(app)).as("counted as a failure here, not a refusal").isEmpty();
    assertThat(Files.readString(dir.resolve("g.state.log"))).as("its stop cleans up after a failed start").contains("stop ran as generic");
  }

  @Test
  void whatTheStartActionLeavesRunningIsFencedWithTheApp() throws Exception {
    assumeTrue(AppCgroups.usable().isPresent(), "cgroup v2 not usable here: " + AppCgroups.whyNot());
    start();
    sup.ocfRoot(ocfRoot());
    Path pidFile = dir.resolve("daemon.pid");
    sup.start(agentApp("daemon", FAST_MONITOR, "ocf:test:Scripted", "state=" + dir.resolve("d.state"), "daemon=" + pidFile));
    awaitRunning("daemon");
    long daemon = Long.parseLong(Files.readString(pidFile).trim());
    assertThat(ProcessGroups.alive(daemon)).isTrue();
    mayRun.set(false);
    await().atMost(Duration.ofSeconds(5)).until(() -> !ProcessGroups.alive(daemon));
  }

  @Test
  void anAgentThatCannotStopKeepsTheAppStoppingHere() throws Exception {
    start();
    sup.ocfRoot(ocfRoot());
    Path state = dir.resolve("st.state");
    Files.createFile(dir.resolve("st.state.stopfail"));
    sup.start(agentApp("stuck", FAST_MONITOR, "ocf:test:Scripted", "state=" + state));
    awaitRunning("stuck");
    sup.stop("stuck", "test");
    await().atMost(Duration.ofSeconds(15)).until(() -> !releaseFailures.isEmpty());
    assertThat(releaseFailures.get(0)).contains("(its agent)");
    assertThat(sup.instances().get("stuck").phase()).as("not handed over while the resource may be held").isEqualTo(Instance.Phase.STOPPING);
    Files.delete(dir.resolve("st.state.stopfail")); // the operator fixed the cause: the retried stop succeeds
    await().atMost(Duration.ofSeconds(10)).until(() -> sup.instances().isEmpty());
    assertThat(state).doesNotExist();
  }

  @Test
  void anAgentAsAManagedResourceIsStartedCheckedAndStoppedAroundTheApp() throws Exception {
    start();
    sup.ocfRoot(ocfRoot());
    Path state = dir.resolve("m.state");
    App app = app("withres", "bash", "-c", "echo $$ > pid; exec sleep 1000")
        .withManaged(List.of(ManagedResource.ofAgent("res", List.of("ocf:test:Scripted", "state=" + state), 5000L)));
    sup.start(app);
    childPid("withres");
    assertThat(state).as("acquired before the app started").exists();
    sup.stop("withres", "test");
    await().atMost(Duration.ofSeconds(10)).until(() -> sup.instances().isEmpty());
    assertThat(state).doesNotExist();
    assertThat(Files.readString(dir.resolve("m.state.log"))).contains("stop ran as withres-res");
  }

  @Test
  void aMissingAgentMakesTheServerNotQualify() throws Exception {
    start();
    sup.ocfRoot(ocfRoot());
    App app = agentApp("missing", null, "ocf:test:NoSuchAgent");
    assertThat(sup.agents().unmet(app)).singleElement().asString().contains("ocf:test:NoSuchAgent is not installed here");
    List<String> reasons = new ArrayList<>(sup.agents().unmet(agentApp("unit", null, "systemd:nginx.service")));
    assertThat(reasons).singleElement().asString().contains("systemd");
  }

  /** An LSB init script as the app: start daemonizes, status says 0 or 3, stop kills; the daemon is the app's. */
  @Test
  void anLsbInitScriptRunsAsAnAppAndItsStatusIsItsHealth() throws Exception {
    start();
    Path initDir = dir.resolve("init.d");
    Path pidFile = dir.resolve("svc.pid");
    Files.createDirectories(initDir);
    Path script = initDir.resolve("svc");
    Files.writeString(script, """
        #!/bin/sh
        case "$1" in
          start) setsid sleep 1000 > /dev/null 2>&1 & echo $! > %1$s ;;
          status) [ -f %1$s ] && kill -0 "$(cat %1$s)" 2>/dev/null && exit 0; exit 3 ;;
          stop) [ -f %1$s ] && kill "$(cat %1$s)" 2>/dev/null; rm -f %1$s; exit 0 ;;
        esac
        """.formatted(pidFile));
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    sup.agents(new ResourceAgents(ocfRoot(), initDir));
    sup.start(agentApp("svc", FAST_MONITOR, "lsb:svc"));
    awaitRunning("svc");
    long daemon = Long.parseLong(Files.readString(pidFile).trim());
    sup.stop("svc", "test");
    await().atMost(Duration.ofSeconds(10)).until(() -> sup.instances().isEmpty());
    assertThat(ProcessGroups.alive(daemon)).isFalse();
    assertThat(pidFile).as("stopped through the script").doesNotExist();

    sup.start(agentApp("svc", FAST_MONITOR, "lsb:svc").withEpoch(2));
    awaitRunning("svc");
    long second = Long.parseLong(Files.readString(pidFile).trim());
    ProcessHandle.of(second).ifPresent(ProcessHandle::destroyForcibly); // the daemon dies: status says 3
    await().atMost(Duration.ofSeconds(10)).until(() -> exits.stream().anyMatch(e -> e.startsWith("svc:true:")));
  }

  /**
   * Debian's IPaddr2 and Filesystem as managed resources: the address (on loopback: 127.0.0.0/8 is the test's to use)
   * and a bind mount are held exactly while the app runs here.
   */
  @Test
  void debiansIpAddr2AndFilesystemAgentsAreHeldExactlyWhileTheAppRuns() throws Exception {
    Path heartbeat = DEBIAN_OCF.resolve("resource.d/heartbeat");
    assumeTrue(Files.isExecutable(heartbeat.resolve("IPaddr2")), "resource-agents is not installed");
    assumeTrue(ProcessGroups.locate("modprobe", "/sbin", "/usr/sbin").isPresent(), "Filesystem needs modprobe (kmod)");
    assumeTrue("root".equals(System.getProperty("user.name")), "adding an address and mounting need root");
    start();
    String ip = "127.0.0.213";
    Path source = Files.createDirectories(dir.resolve("export"));
    Path target = Files.createDirectories(dir.resolve("mnt"));
    Files.writeString(source.resolve("data"), "shared");
    App app = app("withvip", "bash", "-c", "echo $$ > pid; exec sleep 1000").withManaged(List.of(
        ManagedResource.ofAgent("data", List.of("ocf:heartbeat:Filesystem", "device=" + source, "directory=" + target,
            "fstype=none", "options=bind"), 20_000L),
        ManagedResource.ofAgent("vip", List.of("ocf:heartbeat:IPaddr2", "ip=" + ip, "nic=lo", "cidr_netmask=32"), 20_000L)));
    try {
      sup.start(app);
      childPid("withvip");
      assertThat(addresses()).contains(ip);
      assertThat(target.resolve("data")).as("mounted").hasContent("shared");
      sup.stop("withvip", "test");
      await().atMost(Duration.ofSeconds(30)).until(() -> sup.instances().isEmpty());
      assertThat(addresses()).doesNotContain(ip);
      assertThat(target.resolve("data")).as("unmounted").doesNotExist();
      assertThat(releaseFailures).isEmpty();
    } finally {
      new ProcessBuilder("ip", "addr", "del", ip + "/32", "dev", "lo").start().waitFor();
      new ProcessBuilder("umount", target.toString()).start().waitFor();
    }
  }

  /**
   * #22 and finding 2 of #20: Debian's real IPaddr2 adding an address inside a network namespace this test makes (the
   * OCF root given to the agent wraps the agent in {@code ip netns exec}; its functions are Debian's). The address is
   * there while the app runs; when the agent goes silent (its lease not renewed), the fence kills the app and the
   * release takes the address away by the deadline, without the agent.
   */
  @Test
  void debiansIpAddr2InANamespaceIsReleasedWhenTheLeaseRunsOut() throws Exception {
    Path real = DEBIAN_OCF.resolve("resource.d/heartbeat/IPaddr2");
    assumeTrue(Files.isExecutable(real), "resource-agents is not installed");
    assumeTrue("root".equals(System.getProperty("user.name")), "network namespaces need root");
    String ns = "usocf-" + ProcessHandle.current().pid();
    assumeTrue(VirtualIpTest.run("ip", "netns", "add", ns) != null, "cannot make a network namespace here");
    try {
      VirtualIpTest.run("ip", "-n", ns, "link", "add", "d0", "type", "veth", "peer", "name", "d1");
      VirtualIpTest.run("ip", "-n", ns, "link", "set", "d0", "up");
      VirtualIpTest.run("ip", "-n", ns, "link", "set", "d1", "up");
      VirtualIpTest.run("ip", "-n", ns, "addr", "add", "10.213.0.1/24", "dev", "d0");
      Path root = Files.createDirectories(dir.resolve("ocf"));
      Files.createSymbolicLink(root.resolve("lib"), DEBIAN_OCF.resolve("lib"));
      Path wrapper = Files.createDirectories(root.resolve("resource.d/heartbeat")).resolve("IPaddr2");
      Files.writeString(wrapper, "#!/bin/sh\nexec ip netns exec " + ns + " " + real + " \"$@\"\n");
      Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
      start();
      sup.ocfRoot(root);
      String ip = "10.213.0.50";
      App app = app("nsvip", "bash", "-c", "echo $$ > pid; exec sleep 1000").withManaged(List.of(
          ManagedResource.ofAgent("vip", List.of("ocf:heartbeat:IPaddr2", "ip=" + ip, "nic=d0", "cidr_netmask=24"), 20_000L)));
      sup.start(app);
      long pid = childPid("nsvip");
      assertThat(VirtualIpTest.run("ip", "-n", ns, "-o", "addr", "show", "dev", "d0")).contains(ip + "/24");
      mayRun.set(false);
      await().atMost(Duration.ofSeconds(5)).until(() -> !ProcessGroups.alive(pid)
          && !VirtualIpTest.run("ip", "-n", ns, "-o", "addr", "show", "dev", "d0").contains(ip + "/"));
      await().atMost(Duration.ofSeconds(10)).until(() -> sup.instances().isEmpty());
      assertThat(releaseFailures).isEmpty();
    } finally {
      VirtualIpTest.run("ip", "netns", "del", ns);
    }
  }

  static String addresses() throws Exception {
    Process p = new ProcessBuilder("ip", "-o", "addr", "show", "dev", "lo").start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }
}
