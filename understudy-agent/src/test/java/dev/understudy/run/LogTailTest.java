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
}
