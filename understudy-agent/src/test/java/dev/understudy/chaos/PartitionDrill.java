package dev.understudy.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.testing.NetLab;
import dev.understudy.cli.LocalCluster;
import dev.understudy.testing.History;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Network partitions of real agents, each in its own network namespace of a {@link NetLab}: a server's link goes
 * down while its agent and its app keep running, cut off from the database and from its peers' heartbeats. Runs
 * inside the lab's namespace {@code x} (the lab's addresses exist only inside it), started by {@link PartitionTest};
 * exits non-zero on any failed check.
 *
 * <p>Four fixed cuts: the app's host while a follower of Raft, the host while the Raft leader (the minority keeps a
 * leader that no longer commits anything), the Raft leader while another server hosts the app, and the host's TCP
 * alone (nftables) while its UDP heartbeats pass. After each one the cut heals and the app must run again (on its
 * primary after a failover). Then seeded random cuts ({@link RandomPartitions}). Across the whole run no two
 * instances of an app may overlap (S1), checked on an append-only history that every instance writes from the one
 * machine clock; and a cut-off host must stop its instance within its lease.
 */
public final class PartitionDrill {
  static final List<String> NODES = List.of("a", "b", "c", "x");
  static final List<String> SERVERS = List.of("s1", "s2", "s3");
  /** The default lease is 0.8 s: a cut-off host's app must be gone this long after the cut, with room for a loaded machine. */
  static final long FENCE_BOUND_MS = 3_000;

  private final Cuts cuts;
  private final LocalCluster lc;
  private final Path history;

  private PartitionDrill(NetLab lab, LocalCluster lc, Path history) {
    this.cuts = new Cuts(lab, SERVERS, NODES);
    this.lc = lc;
    this.history = history;
  }

  /** {@code args}: lab prefix, working directory. */
  public static void main(String[] args) throws Exception {
    NetLab lab = NetLab.attach(args[0], NODES);
    Path dir = Path.of(args[1]);
    Path history = dir.resolve("history.log");
    Files.createFile(history);
    List<LocalCluster.Placement> places = List.of(
        new LocalCluster.Placement(lab.address("a"), lab.ns("a")),
        new LocalCluster.Placement(lab.address("b"), lab.ns("b")),
        new LocalCluster.Placement(lab.address("c"), lab.ns("c")));
    LocalCluster lc = LocalCluster.up(dir.resolve("cluster"), places, 7800, Map.of());
    int rc = 1;
    PartitionDrill drill = new PartitionDrill(lab, lc, history);
    try {
      lc.awaitReady(null, 60_000);
      drill.run();
      rc = 0;
    } catch (Throwable t) {
      t.printStackTrace(System.out);
      drill.dumpStatus();
    } finally {
      try {
        lc.down();
      } catch (Exception e) {
        System.out.println("cluster down: " + e);
      }
    }
    System.exit(rc);
  }

  private void run() throws Exception {
    lc.client("s3").post("/api/v1/apps", Map.of("tag", "p", "command", Map.of("argv", History.recorderCommand(history),
        "stopTimeoutMs", 2000), "primary", "s1", "backups", List.of("s2", "s3"), "autoFailback", true));
    awaitRunningOn("s1", "s2");

    cutHost("the host, a Raft follower", false, Cut.LINK);
    cutHost("the host, the Raft leader", true, Cut.LINK);
    cutLeaderNotHost();
    if (Cuts.nftables()) cutHost("the host's TCP (Raft, API) while its UDP heartbeats pass", false, Cut.TCP);
    else report("skipped the TCP-only cut: nft (Debian's nftables) is not installed");

    randomCuts();

    History.assertOneHostAtATime(history);
    report("S1 holds over " + History.instances(history).size() + " instances");
  }

  /**
   * A second app, then {@code partition.seconds} (default 10) of {@link RandomPartitions} from {@code partition.seed}
   * ("random" for a fresh one); once all is healed both apps must run again within a minute (L1).
   */
  private void randomCuts() throws Exception {
    lc.client("s1").post("/api/v1/apps", Map.of("tag", "q", "command", Map.of("argv", History.recorderCommand(history),
        "stopTimeoutMs", 2000), "primary", "s2", "backups", List.of("s3", "s1"), "autoFailback", false));
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> runningHost("s1", "q") != null);
    String seedProperty = System.getProperty("partition.seed", "20261201");
    long seed = seedProperty.equals("random") ? System.nanoTime() % 100_000_000_000_000L : Long.parseLong(seedProperty);
    long seconds = Long.getLong("partition.seconds", 10);
    report("random cuts: seed " + seed + ", " + seconds + " s (replay: -Dpartition.seed=" + seed + ")");
    long before = History.instances(history).size();
    List<String> schedule = RandomPartitions.run(cuts, SERVERS, seconds, seed, line -> report("  " + line));
    long healed = System.currentTimeMillis();
    awaitAllUp();
    for (String tag : List.of("p", "q")) {
      String host = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> runningAnywhere(tag), h -> h != null);
      awaitHistoryFrom(host);
    }
    report(String.format("after %d cuts, healed: both apps run again %d ms later; %d new instances; %s",
        schedule.size(), System.currentTimeMillis() - healed, History.instances(history).size() - before,
        RandomPartitions.gaps(history)));
  }

  /** How a server is cut off: its link down, or only its TCP over the link (UDP heartbeats still pass both ways). */
  enum Cut { LINK, TCP }

  /**
   * Moves the app to a server (the Raft leader or a follower), cuts that server off, checks the takeover, heals and
   * waits for the failback.
   */
  private void cutHost(String label, boolean leaderToo, Cut how) throws Exception {
    String host = null;
    String witness = null;
    // leadership can move while the app does: pick, move, and check again until the host is what the cut needs
    for (int attempt = 0; attempt < 5; attempt++) {
      String leader = leader("s1");
      String pick = leaderToo ? leader : SERVERS.stream().filter(s -> !s.equals(leader)).findFirst().orElseThrow();
      String other = SERVERS.stream().filter(s -> !s.equals(pick)).findFirst().orElseThrow();
      if (!pick.equals(hostOf(other))) lc.client(other).post("/api/v1/apps/p/move", Map.of("to", pick));
      awaitRunningOn(pick, other);
      awaitHistoryFrom(pick);
      // a server healed from the last cut may not know the leader yet (Ratis reconnects with a backoff): ask again
      String seen = await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
          .until(() -> leader(other), l -> !l.isEmpty());
      if (seen.equals(leader)) {
        host = pick;
        witness = other;
        break;
      }
    }
    assertThat(host).as("a stable leader to cut around").isNotNull();
    final String cutOff = host;
    final String via = witness;
    long cut = System.currentTimeMillis();
    cut(cutOff, how, true);
    String takeover = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
        .until(() -> {
          String h = runningHost(via);
          return h != null && !h.equals(cutOff) ? h : null;
        }, h -> h != null);
    JsonNode seen = lc.client(via).get("/api/v1/servers/" + cutOff);
    awaitHistoryFrom(takeover);
    History.Instance old = lastInstance(cutOff);
    History.Instance next = lastInstance(takeover);
    long fencedMs = old.last() / 1_000_000 - cut;
    long startedMs = next.first() / 1_000_000 - cut;
    report(String.format("cut %s (%s): its app's last sign of life %+d ms after the cut, %s's first %+d ms;"
        + " %s saw %s as %s (LAN %s, lease %s)", label, cutOff, fencedMs, takeover, startedMs, via, cutOff,
        seen.path("verdict").asText(), seen.path("lan").asText(), seen.path("lease").asText()));
    assertThat(old.last()).as("S1: %s's instance ran until after %s's began", cutOff, takeover).isLessThan(next.first());
    assertThat(fencedMs).as("%s cut off stops its app within its lease", cutOff).isLessThan(FENCE_BOUND_MS);
    // it failed over or was on its primary: either way auto-failback brings it to s1
    healAndAwaitRunning(cutOff, how, "s1");
  }

  /** Cuts the Raft leader while another server hosts the app: the host keeps or loses nothing it should not. */
  private void cutLeaderNotHost() throws Exception {
    String leader = leader("s1");
    // a host other than the primary, placed there by an operator's move (a 10-minute run once left it there and the
    // drill wrongly waited for a failback: none follows an operator's move)
    String host = SERVERS.stream().filter(s -> !s.equals(leader) && !s.equals("s1")).findFirst().orElseThrow();
    if (!host.equals(hostOf(host))) lc.client(host).post("/api/v1/apps/p/move", Map.of("to", host));
    awaitRunningOn(host, host);
    awaitHistoryFrom(host);
    long cut = System.currentTimeMillis();
    cut(leader, Cut.LINK, true);
    String newLeader = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
        .until(() -> leader(host), l -> l != null && !l.isEmpty() && !l.equals(leader));
    long elected = System.currentTimeMillis() - cut;
    String now = await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> runningHost(host), h -> h != null);
    report(String.format("cut the Raft leader %s while %s hosts the app: %s leads %d ms later; the app runs on %s%s",
        leader, host, newLeader, elected, now, now.equals(host) ? " (not moved)" : " (moved: the host's lease ran out)"));
    // not moved, it stays on the host; moved (the host's lease ran out meanwhile), it fails back to s1. Which one
    // can still change after the read above, so the heal only requires it to run
    healAndAwaitRunning(leader, Cut.LINK, null);
  }

  /** The cut heals: every server sees every other UP, and the app runs on {@code expected} (null: anywhere). */
  private void healAndAwaitRunning(String server, Cut how, String expected) throws Exception {
    cut(server, how, false);
    awaitAllUp();
    String host = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> runningAnywhere("p"), h -> h != null && (expected == null || h.equals(expected)));
    awaitHistoryFrom(host);
  }

  /** Every server answers, and sees every server (itself included: its lease) UP. */
  private void awaitAllUp() {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
      for (String s : SERVERS) {
        for (JsonNode srv : lc.client(s).get("/api/v1/status").get("servers")) {
          if (!"UP".equals(srv.get("verdict").asText())) return false;
        }
      }
      return true;
    });
  }

  private void cut(String server, Cut how, boolean off) throws Exception {
    if (!off) cuts.heal(server);
    else if (how == Cut.LINK) cuts.linkDown(server);
    else cuts.dropTcp(server);
  }

  private void awaitRunningOn(String host, String via) {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
        .until(() -> host.equals(runningHost(via)));
  }

  /** The history has a line from an instance on {@code server} written in the last half second. */
  private void awaitHistoryFrom(String server) {
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
      Optional<History.Instance> i = History.instances(history).stream().filter(x -> x.server().equals(server))
          .max(Comparator.comparingLong(History.Instance::last));
      return i.isPresent() && System.currentTimeMillis() * 1_000_000 - i.get().last() < 500_000_000L;
    });
  }

  private History.Instance lastInstance(String server) throws Exception {
    return History.instances(history).stream().filter(x -> x.server().equals(server))
        .max(Comparator.comparingLong(History.Instance::first)).orElseThrow();
  }

  private String hostOf(String via) {
    return lc.client(via).get("/api/v1/apps/p").get("host").asText(null);
  }

  /** The app's host if the database says it runs, else null. */
  private String runningHost(String via) {
    return runningHost(via, "p");
  }

  /** The app's host as the first server that answers says, if it says the app runs; null otherwise. */
  private String runningAnywhere(String tag) {
    for (String s : SERVERS) {
      try {
        return runningHost(s, tag);
      } catch (RuntimeException e) {
        // that server does not answer: ask the next
      }
    }
    return null;
  }

  private static void report(String line) {
    System.out.println("partition drill: " + line);
  }

  /** What each server says of the servers and apps, for a failed run. */
  private void dumpStatus() {
    for (String s : SERVERS) {
      try {
        System.out.println("status from " + s + ": " + lc.client(s).get("/api/v1/status"));
      } catch (RuntimeException e) {
        System.out.println("status from " + s + ": " + e.getMessage());
      }
    }
  }

  /**
   * FAILBACK_PENDING runs too: a displaced app without auto-failback keeps running on its backup while it waits for an
   * operator (a 40 s random run once ended that way for q and the drill wrongly waited for RUNNING).
   */
  private String runningHost(String via, String tag) {
    JsonNode app = lc.client(via).get("/api/v1/apps/" + tag);
    String state = app.get("state").asText();
    return state.equals("RUNNING") || state.equals("FAILBACK_PENDING") ? app.get("host").asText(null) : null;
  }

  private String leader(String via) {
    return lc.client(via).get("/api/v1/status").get("leader").asText("");
  }
}
