package dev.understudy.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cgroup (v2) per app instance, under a directory of this agent's own beside the agent's cgroup. A process cannot
 * leave its cgroup by itself ({@code setsid}, a double fork and a daemon's detaching all stay in it), so the stop, the
 * crash clean-up and the fence kill the whole app through {@code cgroup.kill} (Linux 5.14). Where cgroup v2 is not
 * mounted, not writable, or too old for {@code cgroup.kill}, apps are contained by their process group only.
 */
public final class AppCgroups {
  private static final Logger log = LoggerFactory.getLogger(AppCgroups.class);
  private static volatile String whyNot = "not checked yet";

  private final Path base;

  private AppCgroups(Path base) { this.base = base; }

  /** The cgroup v2 directory this process runs in, if it is mounted, writable and has {@code cgroup.kill}. */
  public static Optional<Path> usable() {
    try {
      Optional<Path> mount = cgroup2Mount();
      if (mount.isEmpty()) return none("no cgroup2 file system is mounted");
      Path own = mount.get().resolve(ownPath().orElse("/").substring(1));
      if (!Files.isDirectory(own)) return none(own + " (this process's cgroup) is not visible here");
      if (!Files.isWritable(own)) return none(own + " is not writable (run the agent as root, or delegate it a cgroup)");
      Path probe = Files.createTempDirectory(own, "understudy-probe-");
      try {
        if (!Files.exists(probe.resolve("cgroup.kill"))) return none("the kernel has no cgroup.kill (Linux 5.14 or later has)");
      } finally {
        Files.deleteIfExists(probe);
      }
      whyNot = null;
      return Optional.of(own);
    } catch (IOException | RuntimeException e) {
      return none(e.toString());
    }
  }

  /** Why {@link #usable()} found none, or null when it did. */
  public static String whyNot() { return whyNot; }

  private static Optional<Path> none(String why) {
    whyNot = why;
    return Optional.empty();
  }

  /**
   * This agent's directory of app cgroups, named after its data directory (agents sharing a machine have their own),
   * emptied of what an earlier life left; empty where cgroup v2 cannot be used.
   */
  static Optional<AppCgroups> forAgent(Path dataDir) { return forAgent(dataDir, true); }

  /** As {@link #forAgent(Path)}; without {@code killLeftovers} when an earlier life's apps are to be adopted first. */
  static Optional<AppCgroups> forAgent(Path dataDir, boolean killLeftovers) {
    if ("off".equals(System.getenv("UNDERSTUDY_APP_CGROUPS"))) {
      log.warn("apps are contained by their process group only: UNDERSTUDY_APP_CGROUPS=off");
      return Optional.empty();
    }
    Optional<Path> own = usable();
    if (own.isEmpty()) {
      log.warn("apps are contained by their process group only: {}. A child that calls setsid escapes stop and the fence.", whyNot);
      return Optional.empty();
    }
    try {
      Path base = own.get().resolve("understudy-" + shortHash(dataDir.toAbsolutePath().normalize().toString()));
      Files.createDirectories(base);
      AppCgroups cgroups = new AppCgroups(base);
      if (killLeftovers) cgroups.killLeftovers(java.util.Set.of());
      log.info("apps are contained in cgroups under {}", base);
      return Optional.of(cgroups);
    } catch (IOException e) {
      log.warn("apps are contained by their process group only: cannot make their cgroups ({})", e.toString());
      return Optional.empty();
    }
  }

  /** A fresh cgroup for {@code tag}'s next instance (one left by an earlier instance is killed and removed first). */
  Path create(String tag) throws IOException {
    Path cg = base.resolve(tag);
    if (Files.isDirectory(cg)) killAndRemove(cg);
    Files.createDirectory(cg);
    return cg;
  }

  /** SIGKILLs every process in {@code cg} (the kernel does it, atomically against forks). */
  static void kill(Path cg) {
    try {
      Files.writeString(cg.resolve("cgroup.kill"), "1");
    } catch (IOException e) {
      // gone already
    }
  }

  /** Sends {@code signal} (TERM) to every process in {@code cg}: a stop asks them all, not just the leader's group. */
  static void signalAll(Path cg, String signal) {
    for (long pid : pids(cg)) {
      ProcessHandle.of(pid).ifPresent(h -> {
        if ("TERM".equals(signal)) h.destroy(); else h.destroyForcibly();
      });
    }
  }

  /** The processes in {@code cg} (none when it is gone). */
  static List<Long> pids(Path cg) {
    try {
      return Files.readAllLines(cg.resolve("cgroup.procs"), StandardCharsets.US_ASCII).stream()
          .filter(l -> !l.isBlank()).map(l -> Long.parseLong(l.trim())).toList();
    } catch (IOException | NumberFormatException e) {
      return List.of();
    }
  }

  /** No process left in {@code cg} (zombies not yet reaped have left it already). */
  static boolean empty(Path cg) { return pids(cg).isEmpty(); }

  /** Removes an empty cgroup; false when it still holds a process (or cannot be removed). */
  static boolean remove(Path cg) {
    try {
      Files.deleteIfExists(cg);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Kills what an earlier life of this agent left in its cgroups (its fence should have), and removes them. */
  void killLeftovers(java.util.Set<String> adopted) throws IOException {
    try (var dirs = Files.list(base)) {
      for (Path cg : dirs.filter(Files::isDirectory).filter(d -> !adopted.contains(d.getFileName().toString())).toList()) {
        if (!empty(cg)) log.warn("killing {} process(es) left over from an earlier run in {}", pids(cg).size(), cg);
        killAndRemove(cg);
      }
    }
  }

  /** Removes this agent's cgroups that are empty, and its directory if nothing is left (the agent is closing). */
  void removeEmpty() {
    try (var dirs = Files.list(base)) {
      for (Path cg : dirs.filter(Files::isDirectory).toList()) {
        if (empty(cg)) remove(cg);
      }
    } catch (IOException e) {
      return;
    }
    remove(base);
  }

  private static void killAndRemove(Path cg) throws IOException {
    long until = System.nanoTime() + 10_000_000_000L;
    while (!empty(cg) && System.nanoTime() < until) {
      kill(cg);
      ProcessStop.sleep(10);
    }
    if (!remove(cg)) throw new IOException(cg + " still holds processes that survive SIGKILL");
  }

  /** Where the cgroup v2 tree is mounted (its root: the paths systemd names are relative to it). */
  static Optional<Path> cgroup2Mount() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
      int dash = line.indexOf(" - ");
      if (dash < 0) continue;
      String[] after = line.substring(dash + 3).split(" ");
      String[] before = line.substring(0, dash).split(" ");
      if (after[0].equals("cgroup2") && before.length > 4 && before[3].equals("/")) return Optional.of(Path.of(before[4]));
    }
    return Optional.empty();
  }

  /** The "0::PATH" line of /proc/self/cgroup: this process's place in the v2 hierarchy. */
  private static Optional<String> ownPath() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
      if (line.startsWith("0::")) return Optional.of(line.substring(3).isEmpty() ? "/" : line.substring(3));
    }
    return Optional.empty();
  }

  private static String shortHash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
