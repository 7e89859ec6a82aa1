package dev.understudy.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogTailTest {
  @TempDir Path dir;

  @Test
  void theLastLinesOfAHugeLogAreReadFromItsEndOnly() throws IOException {
    Path f = dir.resolve("app.log");
    try (OutputStream out = Files.newOutputStream(f)) {
      byte[] line = ("x".repeat(99) + "\n").getBytes(StandardCharsets.US_ASCII);
      for (int i = 0; i < 200_000; i++) out.write(line); // 20 MB
      out.write("second to last\nlast\n".getBytes(StandardCharsets.US_ASCII));
    }
    var tail = LogTail.read(f, 3, LogTail.MAX_BYTES);
    assertThat(tail).containsExactly("x".repeat(99), "second to last", "last");
    assertThat(LogTail.read(f, 100_000, LogTail.MAX_BYTES)).hasSizeLessThanOrEqualTo(LogTail.MAX_BYTES / 100 + 2)
        .allSatisfy(l -> assertThat(l).hasSizeLessThanOrEqualTo(99));
  }

  @Test
  void shortLogsAndBytesThatAreNotUtf8() throws IOException {
    Path f = dir.resolve("app.log");
    Files.write(f, new byte[] {'a', '\n', (byte) 0xff, 'b', '\n', 'c'});
    assertThat(LogTail.read(f, 10, LogTail.MAX_BYTES)).containsExactly("a", "\ufffdb", "c");
    Files.write(f, new byte[0]);
    assertThat(LogTail.read(f, 10, LogTail.MAX_BYTES)).isEmpty();
  }

  /** #21: logs rotated only when the app started, so one that logged a lot filled the disk while it ran. */
  @Test
  void aRunningAppsLogIsRotatedInPlaceAndItsNextLinesGoToTheNewStart() throws IOException {
    Path f = dir.resolve("app.log");
    try (OutputStream app = new java.io.FileOutputStream(f.toFile(), true)) { // as the app's output is opened: appending
      byte[] line = ("y".repeat(99) + "\n").getBytes(StandardCharsets.US_ASCII);
      for (int i = 0; i < 2_000; i++) app.write(line); // 200 KB
      app.flush();
      assertThat(AppSteps.rotateWhileRunning(f, 100_000)).isTrue();
      app.write("after the rotation\n".getBytes(StandardCharsets.US_ASCII));
      app.flush();
    }
    assertThat(Files.size(dir.resolve("app.log.1"))).isEqualTo(200_000);
    assertThat(Files.readString(f)).isEqualTo("after the rotation\n"); // no hole of zeros before it
    assertThat(AppSteps.rotateWhileRunning(f, 100_000)).isFalse();
  }
}
