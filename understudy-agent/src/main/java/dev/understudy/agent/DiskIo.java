package dev.understudy.agent;

import dev.understudy.detect.DiskPulse;
import dev.understudy.detect.Ticker;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Disk-pulse I/O, on its own thread. The disk pulse only ever prevents a false failover; it must never stop a real one
 * or fence the cluster. A hung write (storage gone, a hard NFS mount) once blocked the lease renewal that shared the
 * timer thread, and every server on that storage fenced itself; an I/O error aborted the whole detection round, and no
 * verdict changed anywhere. A step is skipped while the last one still hangs (nothing queues up behind it); verdicts
 * use the slots last read, which go STALE by themselves when reads stop, so LAN loss and the lease decide.
 */
final class DiskIo implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DiskIo.class);

  /** A step of disk-pulse I/O. */
  interface Step {
    void run() throws IOException;
  }

  private final DiskPulse disk;
  private final Ticker ticker;
  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "disk-pulse");
    t.setDaemon(true);
    return t;
  });
  private final AtomicBoolean busy = new AtomicBoolean();
  private final AtomicLong errors = new AtomicLong();
  private volatile long lastErrorLog;

  /** @param disk null when no disk pulse is configured (every step is then skipped) */
  DiskIo(DiskPulse disk, Ticker ticker) {
    this.disk = disk;
    this.ticker = ticker;
  }

  void run(Step step) {
    if (disk == null || !busy.compareAndSet(false, true)) return;
    try {
      thread.execute(() -> {
        try {
          step.run();
        } catch (IOException | RuntimeException e) {
          errors.incrementAndGet();
          long t = ticker.nanos();
          if (t - lastErrorLog > 10_000_000_000L) {
            lastErrorLog = t;
            log.warn("disk pulse I/O failed ({} so far): {}; LAN heartbeats and leases decide meanwhile", errors.get(), e.toString());
          }
        } finally {
          busy.set(false);
        }
      });
    } catch (RejectedExecutionException closing) {
      busy.set(false);
    }
  }

  long errors() { return errors.get(); }

  @Override
  public void close() {
    thread.shutdownNow();
    try {
      if (disk != null) disk.close();
    } catch (IOException ignored) {
      // closing
    }
  }
}
