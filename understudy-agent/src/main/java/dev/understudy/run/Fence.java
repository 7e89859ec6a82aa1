package dev.understudy.run;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's one guard process ({@code fence.sh}): it SIGKILLs every process group it guards at a deadline the agent
 * moves on with every lease renewal (so when the agent is paused, or its lease runs out, its apps die when the lease
 * does) or when its stdin closes (agent dead). The fencing of a frozen agent's apps depends on this process being
 * scheduled, not on the agent.
 *
 * <p>The deadline is absolute, on the boot-time clock ({@code /proc/uptime}), not a timeout restarted by each line: a
 * timeout let every "forget" line sent while the agent was stopping its apps after losing its lease postpone the kill
 * of the rest, and a line the fence read late made the kill late by as much.
 *
 * <p>One process for all apps, not one per app: with hundreds of apps, a guard per app, each woken at every refresh, cost
 * thousands of wake-ups a second (a 200-app mass failover never finished on 2 cores).
 */
final class Fence implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Fence.class);
  private final Path script;
  private final Path pidFile;
  private final Runnable died;
  /** {@code System.nanoTime() + bootOffsetNanos} never exceeds the boot-time clock (see {@link #calibrate}). */
  private long bootOffsetNanos;
  private final Offset offset;
  private long deadlineSent = Long.MIN_VALUE;
  /** The latest deadline that had passed when a later one replaced it: the fence fired at it. */
  private long lastPassed = Long.MIN_VALUE;
  private Process process;
  private OutputStream stdin;
  private volatile boolean closing;

  /** {@code died}: called (on another thread) when the fence exits while this object is not being closed. */
  Fence(Path runDir, Path pidFile, Runnable died) throws IOException {
    this(runDir, pidFile, died, Fence::calibrate);
  }

  /** A source of the boot-time offset (tests give a stale first reading, as after a suspend). */
  interface Offset {
    long read() throws IOException;
  }

  Fence(Path runDir, Path pidFile, Runnable died, Offset offset) throws IOException {
    this.offset = offset;
    this.script = runDir.resolve("fence.sh");
    this.pidFile = pidFile;
    this.died = died;
    try (InputStream in = Fence.class.getResourceAsStream("fence.sh")) {
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** A fence an earlier life of this agent left guarding its apps while it restarted: its pid, its deadline. */
  record Held(long pid, long deadlineNanos) {}

  private Path holdFile() { return pidFile.resolveSibling("fence.hold"); }

  /**
   * The agent stops to restart: the fence guards its apps until {@code deadlineNanos} (the parting lease's deadline)
   * once the agent is gone, instead of killing them at once; the next life adopts them ({@link #takeHeld}).
   */
  synchronized void hold(long deadlineNanos) throws IOException {
    deadline(deadlineNanos);
    if (!send("H")) throw new IOException("the fence is gone");
    Files.writeString(holdFile(), process.pid() + " " + toBootCentis(deadlineNanos, bootOffsetNanos));
    closing = true;
    stdin.close();
    stdin = null;
  }

  /**
   * The fence an earlier life left holding its apps, when it still runs and its deadline is at least {@code slackNanos}
   * ahead; null otherwise (a fence that is not held, or whose time is nearly up, is killed as a leftover).
   */
  Held takeHeld(long slackNanos) throws IOException {
    Path f = holdFile();
    if (!Files.exists(f) || !Files.exists(pidFile)) return null;
    try {
      String[] parts = Files.readString(f).trim().split(" ");
      long pid = Long.parseLong(parts[0]);
      long centis = Long.parseLong(parts[1]);
      ProcessGroups.Recorded r = ProcessGroups.readPidFile(pidFile);
      long deadline = centis * 10_000_000L - calibrate();
      if (r.pid() != pid || !r.sameProcessRuns() || deadline - System.nanoTime() < slackNanos) return null;
      Files.move(pidFile, pidFile.resolveSibling("fence.held.pid"), StandardCopyOption.REPLACE_EXISTING);
      return new Held(pid, deadline);
    } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
      return null;
    } finally {
      Files.deleteIfExists(f);
    }
  }

  /** Every app the held fence guarded is guarded here now (or gone): it exits without killing anything. */
  static void releaseHeld(Held h) {
    ProcessHandle.of(h.pid()).ifPresent(p -> {
      try {
        new ProcessBuilder("kill", "-USR1", String.valueOf(h.pid())).start().waitFor();
      } catch (IOException e) {
        log.warn("cannot tell the held fence (pid {}) to exit: {}; it kills at its deadline", h.pid(), e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
  }

  /** Kills a fence left by an earlier life of this agent (it exits by itself once its stdin closes; make sure). */
  void killLeftover() throws IOException {
    Path held = pidFile.resolveSibling("fence.held.pid");
    if (Files.exists(held)) {
      ProcessGroups.Recorded h = ProcessGroups.readPidFile(held);
      if (h.sameProcessRuns()) ProcessGroups.killGroup(h.pid(), "KILL");
      Files.deleteIfExists(held);
    }
    if (!Files.exists(pidFile)) return;
    ProcessGroups.Recorded old = ProcessGroups.readPidFile(pidFile);
    if (old.sameProcessRuns()) ProcessGroups.killGroup(old.pid(), "KILL");
    Files.deleteIfExists(pidFile);
  }

  /** Starts a fresh fence guarding nothing yet. */
  synchronized void start() throws IOException {
    // its own session: a terminal's Ctrl-C for the agent must not take the fence with it
    bootOffsetNanos = offset.read();
    deadlineSent = Long.MIN_VALUE;
    lastPassed = Long.MIN_VALUE;
    process = new ProcessBuilder(ProcessGroups.onPath("setsid"), ProcessGroups.onPath("bash"), script.toString())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    stdin = process.getOutputStream();
    ProcessGroups.writePidFile(pidFile, process.pid());
    Process mine = process;
    mine.onExit().thenRun(() -> {
      if (!closing) {
        log.error("the fence (pid {}) exited with {}: the apps it guarded are unguarded", mine.pid(), mine.exitValue());
        died.run();
      }
    });
    log.debug("fence started as pid {}", process.pid());
  }

  /**
   * Guards a process group from now on, to be killed at {@code deadlineNanos} (sent first if it changed). False when
   * the fence cannot be told (it is gone): the group is not guarded and must not run. Pipe order makes this safe
   * without an acknowledgement: the agent lets the program run only after writing this line, and the fence reads it
   * before anything written later, so a group the agent goes on to release dies at the deadline even if the agent
   * freezes at once.
   */
  synchronized boolean guard(long pgid, long deadlineNanos) { return guard(pgid, java.util.List.of(), deadlineNanos); }

  /** As {@link #guard(long, long)}, killing the processes of {@code cgroup} (when not null) with the group. */
  synchronized boolean guard(long pgid, Path cgroup, long deadlineNanos) {
    return guard(pgid, cgroup == null ? java.util.List.of() : java.util.List.of(cgroup), deadlineNanos);
  }

  /**
   * As {@link #guard(long, long)}, killing the processes of each of {@code cgroups} with the group (the app's, and a
   * systemd unit's). Their paths have no blanks: the agent names the app's, and systemd escapes a unit's.
   */
  synchronized boolean guard(long pgid, java.util.List<Path> cgroups, long deadlineNanos) {
    deadline(deadlineNanos);
    StringBuilder line = new StringBuilder("+").append(pgid);
    for (Path cg : cgroups) line.append(' ').append(cg);
    return send(line.toString());
  }

  /** When the fence fires, after the kills, it runs {@code script}: the release of the app's managed resources. */
  synchronized void registerRelease(String tag, Path script, long deadlineNanos) {
    deadline(deadlineNanos);
    send("R " + tag + " " + script);
  }

  /** The agent released the app's resources itself. */
  synchronized void forgetRelease(String tag) { send("r " + tag); }

  /** The group is verified gone: stop guarding it (its number may be reused). */
  synchronized void forget(long pgid) { send("-" + pgid); }

  /**
   * Every guarded group is killed at {@code deadlineNanos} ({@link System#nanoTime()}), unless a later deadline comes
   * first; one in the past kills them at once. Sent only when it changed.
   */
  synchronized void deadline(long deadlineNanos) {
    if (deadlineNanos == deadlineSent) return;
    if (deadlineSent != Long.MIN_VALUE && deadlineSent <= System.nanoTime() + FIRES_EARLY_NANOS) {
      lastPassed = Math.max(lastPassed, deadlineSent);
    }
    deadlineSent = deadlineNanos;
    // measured again for every deadline: a suspend moves the boot-time clock ahead of System.nanoTime by its length,
    // and an offset measured once would make every later deadline one already past (every start killed at once).
    // Every reading is at most the true offset (the boot clock is read first), and the true offset never shrinks, so
    // the largest reading is the best: one taken by a thread preempted between its two reads only makes a deadline
    // early, and the next reading repairs it.
    try {
      bootOffsetNanos = Math.max(bootOffsetNanos, offset.read());
    } catch (IOException e) {
      log.warn("cannot read /proc/uptime ({}); the fence's deadline uses the offset measured last", e.toString());
    }
    send("@" + toBootCentis(deadlineNanos, bootOffsetNanos));
  }

  /** The last deadline the fence was told ({@link System#nanoTime()}; MIN_VALUE before any). */
  synchronized long deadlineSent() { return deadlineSent; }

  /** How much before a deadline the fence may fire: its clock's hundredth, and the hundredth it is told early. */
  static final long FIRES_EARLY_NANOS = 20_000_000L;

  /**
   * Whether the fence fired at some instant from {@code sinceNanos} to {@code nowNanos}: its deadline now has passed,
   * or one that a later deadline replaced had passed by then (a renewal confirmed late moves the deadline on after
   * the fence has already killed: judged by the current deadline alone, that kill looked like a crash).
   */
  synchronized boolean firedSince(long sinceNanos, long nowNanos) {
    return (deadlineSent != Long.MIN_VALUE && nowNanos + FIRES_EARLY_NANOS >= deadlineSent) || lastPassed >= sinceNanos;
  }

  /**
   * The fence's deadline for {@code nanos}: never later than that instant. The fence reads its clock in hundredths,
   * rounded down, so it may wait up to 10 ms too long: the deadline it is given is one hundredth earlier still.
   */
  static long toBootCentis(long nanos, long bootOffsetNanos) {
    if (nanos == Long.MIN_VALUE) return 0;
    return Math.max(0, Math.floorDiv(nanos + bootOffsetNanos, 10_000_000L) - 1);
  }

  /**
   * Boot-time clock minus {@link System#nanoTime()}, rounded so that it is never more (a deadline computed with it is
   * early, by at most 10 ms and the time of one read, never late). Both clocks tick together; the boot-time clock also
   * counts a suspend, which only makes the fence kill earlier.
   */
  static long calibrate() throws IOException {
    String up = Files.readString(Path.of("/proc/uptime"));
    long after = System.nanoTime();
    String[] s = up.trim().split("\\s+")[0].split("\\.");
    long centis = Long.parseLong(s[0]) * 100 + Long.parseLong((s[1] + "00").substring(0, 2));
    return centis * 10_000_000L - after;
  }

  private boolean send(String line) {
    if (stdin == null) return false;
    try {
      stdin.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
      stdin.flush();
      return true;
    } catch (IOException e) {
      return false; // the fence is gone; its exit handler deals with it
    }
  }

  /** Closes the fence's stdin (it then kills whatever it still guards, and exits). */
  @Override
  public synchronized void close() {
    closing = true;
    if (stdin == null) return;
    try {
      stdin.close();
    } catch (IOException ignored) {
      // already gone
    }
    stdin = null;
    try {
      process.waitFor(2, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      Files.deleteIfExists(pidFile);
    } catch (IOException ignored) {
      // harmless
    }
  }
}
