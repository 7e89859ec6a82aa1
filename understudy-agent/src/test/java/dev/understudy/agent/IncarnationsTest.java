package dev.understudy.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Incarnations grow across restarts even when the wall clock stepped back between them. */
class IncarnationsTest {
  @TempDir Path dir;

  @Test
  void aRestartAfterTheClockSteppedBackStillGetsAHigherIncarnation() throws Exception {
    Path f = dir.resolve("incarnation");
    long first = new Incarnations(f).getAsLong();
    // the earlier life ran with a clock an hour ahead: what it handed out is above today's wall clock
    long ahead = System.currentTimeMillis() + 3_600_000L;
    Files.writeString(f, Long.toString(ahead));
    Incarnations restarted = new Incarnations(f);
    long next = restarted.getAsLong();
    assertThat(next).isGreaterThan(ahead).isGreaterThan(first);
    assertThat(restarted.getAsLong()).isGreaterThan(next);
    assertThat(new Incarnations(f).getAsLong()).as("and so on, across every restart").isGreaterThan(next + 1);
  }

  @Test
  void anUnreadableFileFallsBackToTheWallClock() throws Exception {
    Path f = dir.resolve("incarnation");
    Files.writeString(f, "garbage");
    assertThat(new Incarnations(f).getAsLong()).isGreaterThanOrEqualTo(System.currentTimeMillis() - 1000);
  }
}
