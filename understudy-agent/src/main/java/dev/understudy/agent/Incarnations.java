package dev.understudy.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.function.LongSupplier;

/**
 * Numbers that grow across restarts of this agent (heartbeat and lease incarnations), whatever the wall clock does: the
 * last one handed out is kept in the data directory, and the next is above both it and the wall clock. Taken from the
 * wall clock alone, an agent restarted after the clock stepped back had its heartbeats dropped as replays by every
 * peer until they restarted too.
 */
final class Incarnations implements LongSupplier {
  private final Path file;
  private long last;

  Incarnations(Path file) {
    this.file = file;
    long read = 0;
    try {
      if (Files.exists(file)) read = Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).trim());
    } catch (IOException | NumberFormatException e) {
      read = 0; // unreadable: the wall clock alone, as before
    }
    this.last = read;
  }

  @Override
  public synchronized long getAsLong() {
    long next = Math.max(last + 1, System.currentTimeMillis());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(tmp, Long.toString(next), StandardCharsets.US_ASCII, StandardOpenOption.CREATE,
          StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.SYNC);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record the agent's incarnation in " + file, e);
    }
    last = next;
    return next;
  }
}
