package dev.understudy.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Linux process-group helpers over /proc and kill(1). */
public final class ProcessGroups {
  private ProcessGroups() {}

  /** The absolute path of {@code program} on this process's PATH, or the bare name when it is not found there. */
  public static String onPath(String program) { return locate(program).orElse(program); }

  /** Where {@code program} is: the first executable of that name on PATH, then in {@code moreDirs}. */
  public static Optional<String> locate(String program, String... moreDirs) {
    List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
    dirs.addAll(List.of(moreDirs));
    for (String dir : dirs) {
      if (dir.isEmpty()) continue;
      Path p = Path.of(dir, program);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) return Optional.of(p.toString());
    }
    return Optional.empty();
  }

  /**
   * Spawns by vfork, not the JDK 17 default (posix_spawn of its jspawnhelper, which then execs the command): one exec
   * fewer per start. On this 2-core VM each exec of a dynamically linked program costs the loader's CPU probing again
   * (perf: jspawnhelper was a quarter of all CPU in a 1,000-app failover), and 1,000 apps were re-placed in 3.6-3.8 s
   * instead of 5.7-6.9 s. vfork was the JDK's own default on Linux up to JDK 11. Takes effect only if called before
   * the JVM's first spawn; an operator's own -Djdk.lang.Process.launchMechanism wins; left alone on JDKs past 21,
   * which deprecate the mechanism.
   */
  public static void preferVfork() {
    if (System.getProperty("jdk.lang.Process.launchMechanism") == null && Runtime.version().feature() <= 21) {
      System.setProperty("jdk.lang.Process.launchMechanism", "VFORK");
    }
  }

  private static final String KILL = onPath("kill");

  public static void killGroup(long pgid, String signal) {
    try {
      new ProcessBuilder(KILL, "-" + signal, "--", "-" + pgid).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    } catch (IOException e) {
      // kill(1) missing would be a broken machine; nothing sensible to do here
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Field 22 of /proc/PID/stat: start time in clock ticks since boot; identifies a process beyond pid reuse. */
  public static Optional<String> startTime(long pid) {
    return stat(pid).map(f -> f.length > 19 ? f[19] : "");
  }

  /** Running (a zombie waiting to be reaped does not count). */
  public static boolean alive(long pid) { return stat(pid).map(f -> !f[0].equals("Z") && !f[0].equals("X")).orElse(false); }

  /** Records {@code pid}, its start time and this boot's id in {@code file}, so a later life can tell it from a reused pid. */
  public static void writePidFile(Path file, long pid) throws IOException {
    Files.writeString(file, pid + " " + startTime(pid).orElse("-") + " " + bootId().orElse("-"));
  }

  /**
   * What {@link #writePidFile} recorded: the pid, whether that same process (same start time, same boot) still runs,
   * and whether the pid now belongs to another process (reused: after a reboot, or after the group was gone).
   */
  public record Recorded(long pid, boolean sameProcessRuns, boolean pidReused) {
    /**
     * The recorded group may still hold processes of ours: its leader runs, or the pid is free (Linux does not reuse a
     * pid while a process group of that id has members, so members of group {@code pid} are then the leader's own).
     * Killing the group of a reused pid killed an unrelated daemon after a reboot.
     */
    public boolean groupMayBeOurs() { return sameProcessRuns || !pidReused; }
  }

  public static Recorded readPidFile(Path file) throws IOException {
    String[] parts = Files.readString(file).trim().split(" ");
    long pid = Long.parseLong(parts[0]);
    String start = parts.length > 1 ? parts[1] : "-";
    String boot = parts.length > 2 ? parts[2] : null;
    boolean sameBoot = boot == null || boot.equals("-") || bootId().map(boot::equals).orElse(true);
    if (!sameBoot) return new Recorded(pid, false, true); // nothing of an earlier boot survives it
    boolean same = !start.equals("-") && startTime(pid).map(start::equals).orElse(false);
    return new Recorded(pid, same, !same && alive(pid));
  }

  private static Optional<String> bootId() {
    try {
      return Optional.of(Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim());
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static final Object SCAN_LOCK = new Object();
  private static long lastScanStart = Long.MIN_VALUE;
  private static Set<Long> lastScan = Set.of();

  /**
   * Any process whose process group is {@code pgid}, other than zombies, from a scan of /proc that began no earlier
   * than {@code notBefore} (System.nanoTime()). Callers asking
   * at once share one scan: a mass stop of hundreds of apps otherwise read every /proc entry once per app and poll.
   */
  public static boolean anyInGroup(long pgid, long notBefore) {
    synchronized (SCAN_LOCK) {
      if (lastScanStart < notBefore) {
        long start = System.nanoTime();
        lastScan = liveGroups();
        lastScanStart = start;
      }
      return lastScan.contains(pgid);
    }
  }

  private static Set<Long> liveGroups() {
    Set<Long> groups = new HashSet<>();
    try (var dirs = Files.newDirectoryStream(Path.of("/proc"))) {
      for (Path d : dirs) {
        String n = d.getFileName().toString();
        if (n.isEmpty() || !n.chars().allMatch(Character::isDigit)) continue;
        stat(Long.parseLong(n)).filter(f -> f.length > 2 && !f[0].equals("Z") && !f[0].equals("X"))
            .ifPresent(f -> groups.add(Long.parseLong(f[2])));
      }
    } catch (IOException | RuntimeException e) {
      // /proc unreadable: report nothing alive rather than hang a stop forever; the caller's SIGKILL went out anyway
    }
    return groups;
  }

  /** Fields after the command name: [0] = state, [1] = ppid, [2] = pgrp, ... */
  private static Optional<String[]> stat(long pid) {
    try {
      String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
      int close = s.lastIndexOf(')');
      return Optional.of(s.substring(close + 2).split(" "));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * Processes an agent started in an earlier life, by the pid files left in {@code runDir}: its fence should have
   * killed them; make sure. A pid now taken by another process (a reboot, a reuse) is left alone.
   */
  static void killLeftovers(java.nio.file.Path runDir) throws java.io.IOException {
    org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ProcessGroups.class);
    try (var files = java.nio.file.Files.list(runDir)) {
      for (java.nio.file.Path pidFile : files.filter(p -> p.toString().endsWith(".pid")).toList()) {
        Recorded old = readPidFile(pidFile);
        if (old.groupMayBeOurs()) {
          if (old.sameProcessRuns()) log.warn("killing process group {} left over from an earlier run ({})", old.pid(), pidFile.getFileName());
          killGroup(old.pid(), "KILL"); // the leader may be gone while others of its group live on
        } else {
          log.info("{}: pid {} now belongs to another process (a reboot, or reused); left alone", pidFile.getFileName(), old.pid());
        }
        java.nio.file.Files.deleteIfExists(pidFile);
      }
    }
  }
}
