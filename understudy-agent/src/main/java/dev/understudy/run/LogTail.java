package dev.understudy.run;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The last lines of an app's log, read from its end: at most {@code maxBytes} are read whatever the file's size (an app
 * that logged gigabytes once made every log request load all of it), and bytes that are not UTF-8 are replaced.
 */
public final class LogTail {
  public static final int MAX_BYTES = 64 * 1024;

  private LogTail() {}

  public static List<String> read(Path file, int lines, int maxBytes) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long size = f.length();
      long from = Math.max(0, size - maxBytes);
      byte[] buf = new byte[(int) (size - from)];
      f.seek(from);
      f.readFully(buf);
      String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
          .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(ByteBuffer.wrap(buf)).toString();
      List<String> all = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
      if (!all.isEmpty() && all.get(all.size() - 1).isEmpty()) all.remove(all.size() - 1); // the final newline
      if (from > 0 && !all.isEmpty()) all.remove(0); // cut mid-line
      return List.copyOf(all.subList(Math.max(0, all.size() - lines), all.size()));
    }
  }

  /** The last {@code lines} of app {@code tag}'s log in {@code logDir} (none if it has no log; a line saying why if unreadable). */
  static java.util.List<String> ofApp(java.nio.file.Path logDir, String tag, int lines) {
    java.nio.file.Path f = logDir.resolve(tag + ".log");
    try {
      if (!java.nio.file.Files.exists(f)) return java.util.List.of();
      return read(f, lines, MAX_BYTES);
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      return java.util.List.of("(cannot read log: " + e.getMessage() + ")");
    }
  }
}
