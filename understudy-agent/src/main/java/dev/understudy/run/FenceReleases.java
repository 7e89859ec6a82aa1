package dev.understudy.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The release of an app's managed resources, written as a script the fence runs itself when it fires. The fence kills
 * processes without the agent; a frozen or cut-off host would otherwise keep its virtual IP and mount while the taker
 * acquires them. The taker acts {@code leaseMargin} after the holder's lease ends, the fence {@code leaseMargin} before:
 * a release that finishes within twice the margin is done before the taker acquires.
 *
 * <p>Exactly one of the fence and the agent runs a release, decided by renaming the script: the fence takes
 * {@code TAG.release} as {@code .fence} and leaves {@code .released} or {@code .failed}; the agent takes it as
 * {@code .agent}. A rename succeeds once, so an agent that comes back while the fence releases waits for it and does
 * not release twice (a stop command run late could act on state that the new host now owns).
 */
final class FenceReleases {
  private static final Logger log = LoggerFactory.getLogger(FenceReleases.class);

  /** One stop step: its command, its environment, its timeout. */
  record Step(List<String> argv, Map<String, String> env, long timeoutMs) {}

  /** Who releases: the agent, or nobody (the fence did). */
  enum Claim { AGENT, RELEASED_BY_FENCE }

  private final Fence fence;
  private final Path runDir;
  private final Path logDir;
  private final java.util.function.LongSupplier runUntil;

  FenceReleases(Fence fence, Path runDir, Path logDir, java.util.function.LongSupplier runUntil) {
    this.fence = fence;
    this.runUntil = runUntil;
    this.runDir = runDir;
    this.logDir = logDir;
  }

  private Path script(String tag) { return runDir.resolve(tag + ".release"); }

  private static Path with(Path p, String suffix) { return p.resolveSibling(p.getFileName() + suffix); }

  /**
   * Registers {@code steps} (in the order they run) as the app's release, before the resources are acquired: a fence
   * that fires meanwhile releases what may already be held. Written atomically; rewritten as more are acquired.
   */
  void arm(String tag, List<Step> steps) throws IOException {
    Path s = script(tag);
    Path tmp = with(s, ".tmp");
    Files.writeString(tmp, render(steps, logDir.resolve(tag + ".log")), StandardCharsets.UTF_8);
    try {
      Files.move(tmp, s, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, s, StandardCopyOption.REPLACE_EXISTING);
    }
    fence.registerRelease(tag, s, runUntil.getAsLong());
  }

  /**
   * Decides who releases the app's resources now. The agent, unless the fence took the release: then this waits (up to
   * {@code waitMs}) for the fence's run to end; a run that failed or still hangs is the agent's to retry.
   */
  Claim claim(String tag, long waitMs) {
    Path s = script(tag);
    if (take(s, with(s, ".agent"))) return Claim.AGENT;
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
    while (Files.exists(with(s, ".fence")) && System.nanoTime() < until) {
      try {
        Thread.sleep(10); // a release by the fence takes milliseconds; this waits only when the agent raced it
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (deleted(with(s, ".released"))) {
      log.info("the fence released the managed resources of {} when it fired", tag);
      return Claim.RELEASED_BY_FENCE;
    }
    if (take(with(s, ".failed"), with(s, ".agent"))) log.warn("the fence's release of {} failed; the agent releases it", tag);
    else if (take(with(s, ".fence"), with(s, ".agent"))) log.warn("the fence's release of {} still runs after {} ms; the agent releases it too", tag, waitMs);
    return Claim.AGENT;
  }

  /** The agent released everything: nothing is left for the fence. */
  void done(String tag) {
    fence.forgetRelease(tag);
    Path s = script(tag);
    for (String suffix : List.of("", ".agent", ".tmp")) {
      try {
        Files.deleteIfExists(with(s, suffix));
      } catch (IOException e) {
        log.warn("cannot remove {}: {}", with(s, suffix), e.toString());
      }
    }
  }

  /**
   * Runs the releases an earlier life of this agent left registered (its fence was killed with it, or its release
   * failed), but those of the apps this life adopted: its resources must not stay held while this life, or another
   * server, acquires them.
   */
  void releaseLeftovers(java.util.Set<String> adopted) throws IOException {
    try (var files = Files.list(runDir)) {
      for (Path p : files.filter(FenceReleases::leftover).toList()) {
        String tag = p.getFileName().toString().replaceFirst("\\.release.*$", "");
        if (adopted.contains(tag)) continue; // still held by an app adopted from the earlier life
        log.warn("releasing the managed resources of {} that an earlier life of this agent held ({})", tag, p.getFileName());
        try {
          Process r = new ProcessBuilder(ProcessGroups.onPath("bash"), p.toString()).redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
          if (!r.waitFor(60, TimeUnit.SECONDS)) r.destroyForcibly();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(p);
      }
    }
  }

  private static boolean leftover(Path p) {
    String n = p.getFileName().toString();
    return n.endsWith(".release") || n.endsWith(".release.agent") || n.endsWith(".release.failed") || n.endsWith(".release.fence");
  }

  private static boolean take(Path from, Path to) {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
      return true;
    } catch (NoSuchFileException | FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean deleted(Path p) {
    try {
      return Files.deleteIfExists(p);
    } catch (IOException e) {
      return false;
    }
  }

  /** A bash script: each step bounded by its timeout (then killed), all run whatever the others did; exit 1 if any failed. */
  static String render(List<Step> steps, Path logFile) {
    StringBuilder b = new StringBuilder("#!/bin/bash\n# managed resources to release when the fence fires\n");
    b.append("exec >> ").append(quote(logFile.toString())).append(" 2>&1\nrc=0\n");
    for (Step s : steps) {
      b.append("timeout -s KILL ").append(Math.max(1, (s.timeoutMs() + 999) / 1000)).append(" env");
      for (var e : s.env().entrySet()) b.append(' ').append(quote(e.getKey() + "=" + e.getValue()));
      for (String a : s.argv()) b.append(' ').append(quote(a));
      b.append(" < /dev/null || rc=1\n");
    }
    return b.append("exit $rc\n").toString();
  }

  static String quote(String s) { return "'" + s.replace("'", "'\\''") + "'"; }
}
