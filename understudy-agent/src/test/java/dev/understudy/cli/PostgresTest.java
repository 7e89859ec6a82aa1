package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.testing.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * #20: a real application, Debian's PostgreSQL, as the patent's own case: one data directory every server sees, clients
 * through the cluster port of the server that stays up, a writer that records every insert PostgreSQL acknowledged.
 * Its host is killed -9 (agent and app), then its host's agent alone is frozen (SIGSTOP): each time PostgreSQL comes
 * back on the backup, fails back to its primary when that returns, and every acknowledged row is there at the end.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresTest {
  static final Path DIR = Path.of("target", "pg-" + System.nanoTime()).toAbsolutePath();
  LocalCluster lc;
  Path pgBin;
  Path data;
  int clusterPort;
  final Set<Integer> acknowledged = new ConcurrentSkipListSet<>();
  final AtomicBoolean writing = new AtomicBoolean();

  static Optional<Path> postgresBin() {
    try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
      return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("postgres"))).sorted().reduce((a, b) -> b);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  @BeforeAll
  void up() throws Exception {
    pgBin = postgresBin().orElse(null);
    assumeTrue(pgBin != null, "PostgreSQL is not installed (apt-get install postgresql)");
    assumeTrue("root".equals(System.getProperty("user.name")), "PostgreSQL refuses root: the agent must be root to run it as postgres");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/psql")), "psql is not installed (postgresql-client)");
    // the data directory both servers see (one machine here; shared storage between real servers)
    Path shared = Files.createTempDirectory(Path.of("/tmp"), "understudy-pg-");
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
    data = shared.resolve("data");
    Files.createDirectories(data);
    run(List.of("chown", "postgres:postgres", data.toString()));
    run(List.of("runuser", "-u", "postgres", "--", pgBin.resolve("initdb").toString(), "-D", data.toString(),
        "--auth=trust", "-U", "postgres", "--no-sync"));
    // three servers: one killed leaves a majority; s3 is a third vote (and a last backup)
    lc = LocalCluster.up(DIR.resolve("cluster"), 3, Ports.free("127.0.0.11"), null, false, null);
    clusterPort = Ports.free("127.0.0.12");
    int appPort = Ports.free("127.0.0.11");
    // The lock file guards one host against two postmasters; across hosts the cluster does (S1). A stale one names a pid
    // of another host, or here of a postmaster killed by a frozen agent's fence that its parent cannot reap yet (kill(pid, 0)
    // succeeds on a zombie), and PostgreSQL would refuse to start. Under Understudy no other instance runs when this
    // one starts, so the recipe removes it (as Pacemaker's pgsql agent removes a stale one). Its Unix socket (and that
    // socket's lock file) would be shared too: clients come over TCP through the cluster port, so it has none.
    String postgres = "rm -f " + data + "/postmaster.pid; exec " + pgBin.resolve("postgres") + " -D " + data
        + " -c unix_socket_directories= -c listen_addresses=\"$UNDERSTUDY_ADDRESS\" -p \"$UNDERSTUDY_PORT\" -c shared_buffers=16MB -c max_connections=20";
    lc.client("s1").post("/api/v1/apps", Map.of("tag", "pg",
        "command", Map.of("argv", List.of("sh", "-c", postgres), "user", "postgres",
            "stopCommand", List.of(pgBin.resolve("pg_ctl").toString(), "stop", "-D", data.toString(), "-m", "fast", "-w"),
            "stopTimeoutMs", 30_000, "startTimeoutMs", 60_000,
            "health", Map.of("port", appPort, "intervalMs", 1000)),
        "primary", "s1", "backups", List.of("s2"), "autoFailback", true,
        "service", Map.of("clusterPort", clusterPort, "appPort", appPort)));
    awaitRunningOn("s1");
    await().atMost(Duration.ofSeconds(30)).until(() -> sql("create table if not exists t (id int primary key)").isPresent());
  }

  @AfterAll
  void down() throws Exception {
    writing.set(false);
    if (lc != null) lc.down();
  }

  /** Runs one statement through the cluster port of s2 (the server that stays up); its output, or empty on failure. */
  Optional<String> sql(String statement) {
    try {
      ProcessBuilder pb = new ProcessBuilder("psql", "-h", lc.config("s2").address(), "-p", String.valueOf(clusterPort),
          "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-Atqc", statement).redirectErrorStream(true);
      pb.environment().put("PGCONNECT_TIMEOUT", "5");
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return Optional.empty();
      }
      return p.exitValue() == 0 ? Optional.of(out.trim()) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** Inserts 1, 2, 3... one at a time; an id whose insert PostgreSQL acknowledged (psql exit 0) is recorded. */
  Thread writer() {
    writing.set(true);
    Thread t = new Thread(() -> {
      for (int id = 1; writing.get(); id++) {
        if (sql("insert into t values (" + id + ")").isPresent()) acknowledged.add(id);
      }
    }, "pg-writer");
    t.setDaemon(true);
    t.start();
    return t;
  }

  void awaitRunningOn(String server) {
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
      try {
        JsonNode a = lc.client("s2").get("/api/v1/apps/pg");
        return server.equals(a.path("host").asText()) && "RUNNING".equals(a.path("state").asText());
      } catch (CliException e) {
        return false;
      }
    });
  }

  /** Acknowledged writes go on (at least {@code more} new ones). */
  void awaitWritesResume(int more) {
    int before = acknowledged.size();
    await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged.size() >= before + more);
  }

  @Test
  void comesBackAfterAKilledHostAndAFrozenAgentAndLosesNoAcknowledgedWrite() throws Exception {
    Thread w = writer();
    awaitWritesResume(20);

    lc.kill("s1"); // the server dies: its agent and PostgreSQL, kill -9
    awaitRunningOn("s2");
    awaitWritesResume(20);
    lc.start("s1");
    awaitRunningOn("s1"); // autoFailback: back to its primary once it qualifies again
    awaitWritesResume(20);

    lc.signalAgent("s1", "STOP"); // the agent alone freezes: its fence kills PostgreSQL when its lease runs out
    try {
      awaitRunningOn("s2");
      awaitWritesResume(20);
    } finally {
      lc.signalAgent("s1", "CONT");
    }
    awaitRunningOn("s1");
    awaitWritesResume(20);

    writing.set(false);
    w.join(30_000);
    String rows = sql("select id from t order by id").orElseThrow();
    Set<Integer> present = new java.util.HashSet<>();
    for (String line : rows.split("\n")) if (!line.isBlank()) present.add(Integer.parseInt(line.trim()));
    assertThat(present).as("every insert PostgreSQL acknowledged survived two failovers and two failbacks")
        .containsAll(acknowledged);
    JsonNode events = lc.client("s2").get("/api/v1/events?limit=500");
    long crashLoops = 0;
    for (JsonNode e : events.path("events").isMissingNode() ? events : events.path("events")) {
      if ("CRASH_LOOP".equals(e.path("kind").asText()) || "APP_FAILED".equals(e.path("kind").asText())) crashLoops++;
    }
    assertThat(crashLoops).as("no bounce: PostgreSQL started cleanly wherever it went").isZero();
  }

  static void run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) throw new IOException(cmd + " failed: " + out);
  }
}
