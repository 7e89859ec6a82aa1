package dev.understudy.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * #23: the release installs and runs with nothing of the build. packaging/build makes the tarball and the Debian
 * package from the jar; the tarball is unpacked into a fresh directory and the package installed by dpkg into a fresh
 * root, and the installed files (not the source tree, not Maven) run {@code understudy --version} and a 3-agent local
 * cluster. The package's metadata, unit, man page,
 * completion and example config are checked.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PackageTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  final Path work = Path.of("target", "package-test-" + System.nanoTime()).toAbsolutePath();
  Path tarball;
  Path deb;

  @BeforeAll
  void build() throws Exception {
    assumeTrue(Files.isRegularFile(ROOT.resolve("understudy-agent/target/understudy.jar")),
        "the agent's jar is not built (mvn -B package builds it before this module)");
    Files.createDirectories(work);
    Result r = run(work, Map.of(), ROOT.resolve("packaging/build").toString(), work.resolve("release").toString());
    assertThat(r.code).as(r.out).isZero();
    for (String line : r.out.split("\n")) {
      if (line.endsWith(".tar.gz")) tarball = Path.of(line.trim());
      if (line.endsWith(".deb")) deb = Path.of(line.trim());
    }
    assertThat(tarball).as(r.out).isNotNull();
  }

  @Test
  void theTarballRunsAClusterFromAFreshDirectory() throws Exception {
    Path into = Files.createDirectories(work.resolve("fresh-dir"));
    assertThat(run(into, Map.of(), "tar", "-xzf", tarball.toString()).code).isZero();
    Path top;
    try (var s = Files.list(into)) {
      top = s.findFirst().orElseThrow();
    }
    assertThat(top.resolve("LICENSE")).exists();
    Path understudy = top.resolve("usr/bin/understudy");
    Result version = run(into, Map.of(), understudy.toString(), "--version");
    assertThat(version.code).as(version.out).isZero();
    assertThat(version.out).startsWith("understudy ");

    runsAClusterFrom(understudy, into.resolve("cluster"));
  }

  @Test
  void theDebianPackageInstallsIntoAFreshRootWithItsServiceManPageCompletionAndExampleAndRunsACluster() throws Exception {
    assumeTrue(deb != null, "dpkg-deb is not installed: no Debian package was built");
    Result info = run(work, Map.of(), "dpkg-deb", "--info", deb.toString());
    assertThat(info.out).contains("Package: understudy").contains("Architecture: all").contains("Depends: openjdk-17-jre-headless");
    // installed by dpkg into a root of its own: an empty package database, the maintainer scripts run with DPKG_ROOT
    Path root = Files.createDirectories(work.resolve("fresh-root"));
    Files.createDirectories(root.resolve("var/lib/dpkg/info"));
    Files.createDirectories(root.resolve("var/lib/dpkg/updates"));
    Files.createFile(root.resolve("var/lib/dpkg/status"));
    boolean asRoot = "root".equals(System.getProperty("user.name"));
    Result install = asRoot
        ? run(work, Map.of(), "dpkg", "--root=" + root, "--force-script-chrootless", "--force-depends", "-i", deb.toString())
        : run(work, Map.of(), "dpkg-deb", "-x", deb.toString(), root.toString()); // dpkg installs as root only
    assertThat(install.code).as(install.out).isZero();
    assertThat(root.resolve("usr/share/understudy/understudy.jar")).exists();
    assertThat(root.resolve("usr/share/doc/understudy/copyright")).content().contains("Apache License");
    String unit = Files.readString(root.resolve("lib/systemd/system/understudy.service"));
    assertThat(unit).contains("ExecStart=/usr/bin/understudy agent --config /etc/understudy/agent.yaml").contains("Restart=always");
    String man;
    try (var in = new GZIPInputStream(Files.newInputStream(root.resolve("usr/share/man/man1/understudy.1.gz")))) {
      man = new String(in.readAllBytes());
    }
    assertThat(man).startsWith(".TH UNDERSTUDY 1").contains(".SS app add").contains("\\-\\-primary").contains(".SS maintenance").contains(".SS snapshot save");
    Path completion = root.resolve("usr/share/bash-completion/completions/understudy");
    assertThat(run(work, Map.of(), "bash", "-n", completion.toString()).code).as("valid bash").isZero();
    assertThat(Files.readString(completion)).contains("maintenance").contains("snapshot");
    String example = Files.readString(root.resolve("etc/understudy/agent.yaml.example"));
    assertThat(example).contains("# timing.profile").contains("# apps.ocfRoot").contains("# server: a");
    Result version = run(work, Map.of(), root.resolve("usr/bin/understudy").toString(), "--version");
    assertThat(version.code).as(version.out).isZero();
    Result check = run(work, Map.of(), root.resolve("usr/bin/understudy").toString(), "config", "check",
        root.resolve("etc/understudy/agent.yaml.example").toString());
    assertThat(check.code).as("an example of comments only is not a configuration: the check says so").isNotZero();
    runsAClusterFrom(root.resolve("usr/bin/understudy"), work.resolve("deb-cluster"));

    if (!asRoot) return;
    Result remove = run(work, Map.of(), "dpkg", "--root=" + root, "--force-script-chrootless", "-r", "understudy");
    assertThat(remove.code).as(remove.out).isZero();
    assertThat(root.resolve("usr/share/understudy/understudy.jar")).as("removed").doesNotExist();
    assertThat(root.resolve("etc/understudy/agent.yaml.example")).as("a conffile stays until purged").exists();
  }

  /** A real 3-agent cluster from installed files, on its own ports: it forms, runs an app, and is taken down. */
  void runsAClusterFrom(Path understudy, Path cluster) throws Exception {
    Path dir = cluster.getParent();
    String base = String.valueOf(freeBasePort());
    Result up = run(dir, Map.of(), understudy.toString(), "local", "up", "--servers", "3", "--dir", cluster.toString(), "--base-port", base);
    try {
      assertThat(up.code).as(up.out).isZero();
      // three cold JVMs on a small machine may lose their first leases (status then says VIEW FROZEN and exits 4)
      // until they have warmed up: the cluster must settle, not be settled at the first look
      Result[] status = new Result[1];
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        status[0] = run(dir, Map.of(), understudy.toString(), "status", "--agent", "http://127.0.0.11:" + base);
        assertThat(status[0].code).as(status[0].out).isZero();
      });
      assertThat(status[0].out).contains("s1").contains("s2").contains("s3");
      java.util.Properties env = new java.util.Properties();
      try (var in = Files.newInputStream(cluster.resolve("cluster.env"))) {
        env.load(in);
      }
      Result add = run(dir, Map.of("UNDERSTUDY_TOKEN", env.getProperty("UNDERSTUDY_TOKEN")), understudy.toString(), "app", "add", "sleeper", "--primary", "s1", "--backup", "s2",
          "--agent", "http://127.0.0.11:" + base, "--", "sleep", "100000");
      assertThat(add.code).as(add.out).isZero();
      await().atMost(Duration.ofSeconds(30)).until(() ->
          run(dir, Map.of(), understudy.toString(), "status", "--agent", "http://127.0.0.12:" + base).out.contains("RUNNING"));
    } finally {
      run(dir, Map.of(), understudy.toString(), "local", "down", "--dir", cluster.toString());
    }
  }

  /** A port free on 127.0.0.11-13 with the two after it (API, Raft, heartbeat). */
  static int freeBasePort() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base;
      try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.11"))) {
        base = s.getLocalPort();
      }
      if (base > 65_000) continue;
      boolean free = true;
      for (int host = 11; host <= 13 && free; host++) {
        for (int p = base; p <= base + 2 && free; p++) {
          try (var s = new java.net.ServerSocket(p, 1, java.net.InetAddress.getByName("127.0.0." + host))) {
            free = true;
          } catch (IOException taken) {
            free = false;
          }
        }
      }
      if (free) return base;
    }
    throw new IOException("no three free ports in a row on 127.0.0.11-13");
  }

  record Result(int code, String out) {}

  static Result run(Path dir, Map<String, String> env, String... cmd) {
    try {
      ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(List.of(cmd))).directory(dir.toFile()).redirectErrorStream(true);
      pb.environment().remove("UNDERSTUDY_TOKEN");
      pb.environment().putAll(env);
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, new String(out));
      }
      return new Result(p.exitValue(), new String(out));
    } catch (IOException e) {
      return new Result(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, "interrupted");
    }
  }
}
