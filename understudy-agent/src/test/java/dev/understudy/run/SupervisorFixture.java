package dev.understudy.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.understudy.decide.Instance;
import dev.understudy.detect.Ticker;
import dev.understudy.model.App;
import dev.understudy.model.AppType;
import dev.understudy.model.Command;
import dev.understudy.model.ManagedResource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** A supervisor on real processes with a lease the test controls, and what it reports. */
abstract class SupervisorFixture {
  @TempDir Path dir;
  /** The lease: renewed (the deadline 300 ms ahead, moved on at every look) while true; when false, not renewed any more. */
  final AtomicBoolean mayRun = new AtomicBoolean(true);
  final java.util.concurrent.atomic.AtomicLong deadline = new java.util.concurrent.atomic.AtomicLong();
  final List<String> exits = new CopyOnWriteArrayList<>();
  final List<String> startFailures = new CopyOnWriteArrayList<>();
  final List<String> releaseFailures = new CopyOnWriteArrayList<>();
  final java.util.concurrent.atomic.AtomicInteger changes = new java.util.concurrent.atomic.AtomicInteger();
  Supervisor sup;
  /** What the agent's confirmed renewals do: tell the supervisor the deadline moved, five times a second. */
  final java.util.concurrent.ScheduledExecutorService renewals = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();

  void start() throws Exception {
    sup = new Supervisor("s1", "127.0.0.1", "http://127.0.0.1:1", dir, Ticker.SYSTEM,
        mayRun::get, () -> mayRun.get() ? deadline.updateAndGet(d -> System.nanoTime() + 300_000_000L) : deadline.get(),
        new Supervisor.Listener() {
          @Override
          public void exited(String tag, long epoch, boolean crashed, int code) { exits.add(tag + ":" + crashed + ":" + code); }

          @Override
          public void startFailed(String tag, long epoch, String why) { startFailures.add(tag + ": " + why); }

          @Override
          public void releaseFailed(String tag, long epoch, String why) { releaseFailures.add(tag + ": " + why); }

          @Override
          public void changed() { changes.incrementAndGet(); }
        });
    renewals.scheduleAtFixedRate(() -> { if (mayRun.get()) sup.leaseMoved(); }, 200, 200, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  @AfterEach
  void close() {
    renewals.shutdownNow();
    if (sup != null) {
      sup.stopAll("test end");
      sup.close();
    }
  }

  static App app(String tag, String... argv) {
    return App.create(tag, AppType.CAPABLE, new Command(List.of(argv), null, Map.of("GREETING", "hi"), List.of(), 2000L),
        "s1", List.of("s2"), List.of(), false, null, Map.of());
  }

  long childPid(String tag) throws Exception {
    Path f = dir.resolve("apps").resolve(tag).resolve("pid");
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(f) && !Files.readString(f).isBlank());
    return Long.parseLong(Files.readString(f).trim());
  }

}
