package dev.understudy.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.understudy.decide.Instance;
import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * #20 finding 12: a child that calls {@code setsid} leaves its app's process group, and so escaped the stop, the crash
 * clean-up and the fence. Where the machine has cgroup v2, each app runs in a cgroup of its own, which no child leaves.
 */
class ContainmentTest extends SupervisorFixture {
  /** Starts a child in a session of its own (it leaves the app's group), records its pid, and runs on. */
  static final String ESCAPES = "setsid sleep 1000 & echo $! > pid; exec sleep 1000";

  @BeforeEach
  void needCgroups() {
    assumeTrue(AppCgroups.usable().isPresent(), "cgroup v2 not usable here: " + AppCgroups.whyNot());
  }

  long escapedChild(String tag) throws Exception {
    long pid = childPid(tag);
    assertThat(Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"))).as("running").isNotEmpty();
    return pid;
  }

  @Test
  void aChildThatLeftTheGroupStopsWithTheApp() throws Exception {
    start();
    sup.start(app("esc", "bash", "-c", ESCAPES));
    long escaped = escapedChild("esc");
    await().atMost(Duration.ofSeconds(5)).until(() -> sup.instances().get("esc").phase() == Instance.Phase.RUNNING);
    sup.stop("esc", "test");
    await().atMost(Duration.ofSeconds(10)).until(() -> sup.instances().isEmpty());
    assertThat(ProcessGroups.alive(escaped)).as("the child in its own session is gone with the app").isFalse();
  }

  @Test
  void aChildThatLeftTheGroupDiesWhenTheAppCrashes() throws Exception {
    start();
    sup.start(app("crash", "bash", "-c", "setsid sleep 1000 & echo $! > pid; sleep 0.3; exit 3"));
    long escaped = escapedChild("crash");
    await().atMost(Duration.ofSeconds(10)).until(() -> exits.contains("crash:true:3"));
    assertThat(ProcessGroups.alive(escaped)).as("nothing of a crashed app is left to run beside its next start").isFalse();
  }

  @Test
  void theFenceKillsAChildThatLeftTheGroup() throws Exception {
    start();
    sup.start(app("fenced", "bash", "-c", ESCAPES));
    long escaped = escapedChild("fenced");
    mayRun.set(false); // the lease is no longer renewed: the fence kills at its deadline, whatever the agent does
    await().atMost(Duration.ofSeconds(5)).until(() -> !ProcessGroups.alive(escaped));
  }

  @Test
  void aFenceWhoseAgentDiedKillsAChildThatLeftTheGroup() throws Exception {
    start();
    sup.start(app("orphan", "bash", "-c", ESCAPES));
    long escaped = escapedChild("orphan");
    sup.close(); // the fence's stdin closes, as when the agent is killed -9
    sup = null;
    await().atMost(Duration.ofSeconds(5)).until(() -> !ProcessGroups.alive(escaped));
  }
}
