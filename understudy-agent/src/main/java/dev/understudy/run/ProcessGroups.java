package dev.understudy.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Linux process-group helpers over /proc and kill(1). */
public final class ProcessGroups {
  private ProcessGroups() {}

  public static void killGroup(long pgid, String signal) {
    try {
      new ProcessBuilder("kill", "-" + signal, "--", "-" + pgid).redirectErrorStream(true)
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

  /** Any process whose process group is {@code pgid}, other than zombies? */
  public static boolean anyInGroup(long pgid) {
    try (var dirs = Files.list(Path.of("/proc"))) {
      return dirs.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
          .map(n -> stat(Long.parseLong(n)))
          .anyMatch(f -> f.isPresent() && f.get().length > 2 && !f.get()[0].equals("Z") && !f.get()[0].equals("X")
              && f.get()[2].equals(String.valueOf(pgid)));
    } catch (IOException e) {
      return false;
    }
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
}
