package dev.understudy.detect;

import dev.understudy.decide.DiskState;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskPulseTest {
  @TempDir Path dir;
  final FakeTicker clock = new FakeTicker();
  static final long TIMEOUT = Duration.ofMillis(500).toNanos();

  @Test
  void beatingSlotIsAliveThenStaleWhenFrozen() throws Exception {
    Path f = dir.resolve("pulse");
    try (DiskPulse s1 = new DiskPulse(f, List.of("s1", "s2"), "s1", clock);
         DiskPulse s2 = new DiskPulse(f, List.of("s1", "s2"), "s2", clock)) {
      s1.beat(DiskPulse.State.RUNNING);
      s2.readAll();
      assertThat(s2.state("s1", TIMEOUT)).isEqualTo(DiskState.ALIVE);
      for (int i = 0; i < 5; i++) {
        clock.advance(Duration.ofMillis(200));
        s1.beat(DiskPulse.State.RUNNING);
        s2.readAll();
        assertThat(s2.state("s1", TIMEOUT)).isEqualTo(DiskState.ALIVE);
      }
      s1.setFrozen(true);
      clock.advance(Duration.ofMillis(300));
      s1.beat(DiskPulse.State.RUNNING);
      s2.readAll();
      assertThat(s2.state("s1", TIMEOUT)).isEqualTo(DiskState.ALIVE);
      clock.advance(Duration.ofMillis(300));
      s2.readAll();
      assertThat(s2.state("s1", TIMEOUT)).isEqualTo(DiskState.STALE);
    }
  }

  @Test
  void fencedIsReported() throws Exception {
    Path f = dir.resolve("pulse");
    try (DiskPulse s1 = new DiskPulse(f, List.of("s1", "s2"), "s1", clock);
         DiskPulse s2 = new DiskPulse(f, List.of("s1", "s2"), "s2", clock)) {
      s1.beat(DiskPulse.State.FENCED);
      s2.readAll();
      assertThat(s2.state("s1", TIMEOUT)).isEqualTo(DiskState.FENCED);
    }
  }

  @Test
  void tornOrForeignSlotIsNoEvidenceOfLife() throws Exception {
    Path f = dir.resolve("pulse");
    try (DiskPulse s1 = new DiskPulse(f, List.of("s1", "s2"), "s1", clock);
         DiskPulse s2 = new DiskPulse(f, List.of("s1", "s2"), "s2", clock)) {
      s1.beat(DiskPulse.State.RUNNING);
      s1.corruptOwnSlot();
      s2.readAll();
      assertThat(s2.state("s1", TIMEOUT)).isEqualTo(DiskState.STALE);
      // a valid record of another server in s1's slot (e.g. a misconfigured peer list) is foreign
      byte[] foreign = DiskPulse.encode(new DiskPulse.Slot("s9", 5, 0, DiskPulse.State.RUNNING));
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
        ch.write(ByteBuffer.wrap(foreign), 0);
      }
      s2.readAll();
      assertThat(s2.state("s1", TIMEOUT)).isEqualTo(DiskState.STALE);
    }
  }
}
