package dev.understudy.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.understudy.detect.DiskPulse;
import dev.understudy.detect.Ticker;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Finding 3 of #20: the disk pulse only ever prevents a false failover. Its I/O errors are counted and never reach
 * the caller (they aborted the detection round), and a hung write never blocks the thread that asked for it (it
 * blocked lease renewal, and every server on the storage fenced itself); steps asked for meanwhile are skipped, not
 * queued behind it.
 */
class DiskIoTest {
  @TempDir Path dir;

  @Test
  void anIoErrorIsCountedAndGoesNoFurther() throws Exception {
    try (DiskIo io = new DiskIo(new DiskPulse(dir.resolve("pulse"), List.of("s1", "s2"), "s1", Ticker.SYSTEM), Ticker.SYSTEM)) {
      io.run(() -> {
        throw new IOException("Input/output error (simulated)");
      });
      await().atMost(Duration.ofSeconds(2)).until(() -> io.errors() == 1);
      AtomicInteger ran = new AtomicInteger();
      io.run(ran::incrementAndGet);
      await().atMost(Duration.ofSeconds(2)).until(() -> ran.get() == 1); // the next step still runs
    }
  }

  @Test
  void aHungStepBlocksNoCallerAndLaterStepsAreSkippedNotQueued() throws Exception {
    try (DiskIo io = new DiskIo(new DiskPulse(dir.resolve("pulse"), List.of("s1", "s2"), "s1", Ticker.SYSTEM), Ticker.SYSTEM)) {
      CountDownLatch storageBack = new CountDownLatch(1);
      CountDownLatch hung = new CountDownLatch(1);
      io.run(() -> {
        hung.countDown();
        try {
          storageBack.await(); // a write to storage that is gone (a hard NFS mount)
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      hung.await();
      AtomicInteger ran = new AtomicInteger();
      long t0 = System.nanoTime();
      for (int i = 0; i < 100; i++) io.run(ran::incrementAndGet); // each renewal and detection round asks
      assertThat((System.nanoTime() - t0) / 1_000_000).as("the callers were not held").isLessThan(1000);
      await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(1)).until(() -> ran.get() == 0); // skipped, none queued
      storageBack.countDown();
      await().atMost(Duration.ofSeconds(2)).until(() -> {
        io.run(ran::incrementAndGet); // once the storage is back, steps run again
        return ran.get() >= 1;
      });
    }
  }
}
