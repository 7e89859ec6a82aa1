package dev.understudy.run;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's one guard process ({@code fence.sh}): it SIGKILLs every process group it guards when the agent stops
 * refreshing it for the guard timeout (agent paused or its lease lost) or when its stdin closes (agent dead). The
 * fencing of a frozen agent's apps depends on this process being scheduled, not on the agent.
 *
 * <p>One process for all apps, not one per app: with hundreds of apps, a guard per app woken at every refresh cost
 * thousands of wake-ups a second (a 200-app mass failover never finished on 2 cores).
 */
final class Fence implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Fence.class);
  private final Path script;
  private final Path pidFile;
  private final Duration timeout;
  private final Runnable died;
  private Process process;
  private OutputStream stdin;
  private volatile boolean closing;

  /** {@code died}: called (on another thread) when the fence exits while this object is not being closed. */
  Fence(Path runDir, Path pidFile, Duration timeout, Runnable died) throws IOException {
    this.script = runDir.resolve("fence.sh");
    this.pidFile = pidFile;
    this.timeout = timeout;
    this.died = died;
    try (InputStream in = Fence.class.getResourceAsStream("fence.sh")) {
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Kills a fence left by an earlier life of this agent (it exits by itself once its stdin closes; make sure). */
  void killLeftover() throws IOException {
    if (!Files.exists(pidFile)) return;
    ProcessGroups.Recorded old = ProcessGroups.readPidFile(pidFile);
    if (old.sameProcessRuns()) ProcessGroups.killGroup(old.pid(), "KILL");
    Files.deleteIfExists(pidFile);
  }

  /** Starts a fresh fence guarding nothing yet. */
  synchronized void start() throws IOException {
    // its own session: a terminal's Ctrl-C for the agent must not take the fence with it
    process = new ProcessBuilder("setsid", "bash", script.toString(), String.format(Locale.ROOT, "%.3f", timeout.toMillis() / 1000.0))
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
    log.debug("fence started as pid {} (timeout {} ms)", process.pid(), timeout.toMillis());
  }

  /**
   * Guards a process group from now on. False when the fence cannot be told (it is gone): the group is not guarded
   * and must not run. Pipe order makes this safe without an acknowledgement: the fence reads this line before it can
   * time out on the next one, so a group the agent goes on to release is guarded even if the agent freezes at once.
   */
  synchronized boolean guard(long pgid) { return send("+" + pgid); }

  /** The group is verified gone: stop guarding it (its number may be reused). */
  synchronized void forget(long pgid) { send("-" + pgid); }

  /** The agent still holds its lease: postpone the kill by one timeout. */
  synchronized void refresh() { send(""); }

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
