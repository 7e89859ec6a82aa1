package dev.understudy.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.understudy.detect.Ticker;
import dev.understudy.model.App;
import dev.understudy.model.AppType;
import dev.understudy.model.Command;
import dev.understudy.model.Service;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The virtual IP follows the host: added before the app starts, removed after it stops. Runs inside a network
 * namespace this test creates (never the machine's real interfaces); skipped where namespaces cannot be made.
 */
class VirtualIpTest {
  @TempDir Path dir;
  final String ns = "ustest-" + ProcessHandle.current().pid();
  Supervisor a;
  Supervisor b;

  static String run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return p.waitFor() == 0 ? out : null;
  }

  @AfterEach
  void cleanup() throws Exception {
    renewals.shutdownNow();
    if (a != null) a.close();
    if (b != null) b.close();
    run("ip", "netns", "del", ns);
  }

  /** What the agents' confirmed renewals do: tell the supervisors the deadline moved, five times a second. */
  final java.util.concurrent.ScheduledExecutorService renewals = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();

  Supervisor supervisor(String id) throws IOException {
    Supervisor s = new Supervisor(id, "127.0.0.1", "http://127.0.0.1:1", dir.resolve(id), Ticker.SYSTEM,
        () -> true, () -> System.nanoTime() + 300_000_000L, new Supervisor.Listener() {
          @Override
          public void exited(String tag, long epoch, boolean crashed, int code) {}

          @Override
          public void changed() {}
        });
    renewals.scheduleAtFixedRate(s::leaseMoved, 200, 200, java.util.concurrent.TimeUnit.MILLISECONDS);
    return s;
  }

  String addresses() throws Exception { return run("ip", "-n", ns, "-o", "addr", "show", "dev", "v0"); }

  @Test
  void virtualIpIsAddedBeforeStartAndRemovedAfterStopAndMovesWithTheApp() throws Exception {
    assumeTrue(run("ip", "netns", "add", ns) != null, "cannot create network namespaces here (needs root and iproute2)");
    assumeTrue(run("ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1") != null, "no veth support");
    run("ip", "-n", ns, "link", "set", "v0", "up");
    App app = App.create("vip", AppType.CAPABLE, Command.of("sleep", "1000"), "s1", List.of("s2"), List.of(), false,
        new Service(8080, 9080, "10.211.0.7", "v0", ns), Map.of());
    a = supervisor("s1");
    b = supervisor("s2");
    a.start(app);
    // (sleep listens on nothing, so the instance stays STARTING: what matters here is the address)
    await().atMost(Duration.ofSeconds(10)).until(() -> a.instances().containsKey("vip") && addresses().contains("10.211.0.7/32"));
    a.stop("vip", "move");
    await().atMost(Duration.ofSeconds(10)).until(() -> a.instances().isEmpty());
    assertThat(addresses()).doesNotContain("10.211.0.7");
    b.start(app.movedTo("s2", dev.understudy.model.AppState.STARTING, "move"));
    await().atMost(Duration.ofSeconds(10)).until(() -> b.instances().containsKey("vip"));
    await().atMost(Duration.ofSeconds(10)).until(() -> addresses().contains("10.211.0.7/32"));
  }
}
