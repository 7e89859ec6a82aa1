package dev.understudy.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.model.App;
import dev.understudy.model.AppType;
import dev.understudy.model.Command;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a stop treats an instance whose program is already gone. */
class ProcessStopTest {
  @TempDir Path dir;

  /**
   * Found by PostgresTest: an agent frozen past its lease (its fence killed PostgreSQL meanwhile) woke up and ran the
   * app's stop command, {@code pg_ctl stop}, which read the pid file in the data directory both servers share and
   * stopped the PostgreSQL the backup had started since. A program already gone gets no stop command.
   */
  @Test
  void anInstanceWhoseProgramIsGoneGetsNoStopCommand() throws Exception {
    Files.createDirectories(dir.resolve("run"));
    Files.createDirectories(dir.resolve("logs"));
    Path ran = dir.resolve("stop-command-ran");
    App app = App.create("gone", AppType.CAPABLE, new Command(List.of("true"), null, Map.of(), List.of("touch", ran.toString()), 2000L),
        "s1", List.of("s2"), List.of(), false, null, Map.of());
    try (Fence fence = new Fence(dir.resolve("run"), dir.resolve("fence.pid"), () -> { })) {
      fence.start();
      Proc p = new Proc(app, System.nanoTime());
      p.process = new ProcessBuilder("setsid", "true").start();
      p.pgid = p.process.pid();
      p.process.waitFor();
      new ProcessStop(fence, dir, new AppSteps("s1", "127.0.0.1", "http://127.0.0.1:1", dir)).stopAndVerify(p);
      assertThat(ran).as("the stop command did not run").doesNotExist();
    }
  }
}
