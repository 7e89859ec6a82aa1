package dev.understudy.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An append-only history of app instances, outside the cluster. Each instance appends "alive SERVER EPOCH TAG NANOS"
 * every 20 ms from the one machine clock; an instance's interval is its first to last line. S1: no two instances of
 * one app overlap.
 */
public final class History {
  private History() {}

  /** One process: the recorder's pid tells two instances at the same epoch on the same server apart. */
  public record Instance(String tag, String server, long epoch, long pid, long first, long last) {}

  public static List<String> recorderCommand(Path history) {
    return List.of("bash", "-c", "while :; do echo \"alive $UNDERSTUDY_SERVER $UNDERSTUDY_EPOCH $UNDERSTUDY_TAG $(date +%s%N) $$\" >> "
        + history + "; sleep 0.02; done");
  }

  public static List<Instance> instances(Path history) throws IOException {
    Map<String, long[]> spans = new TreeMap<>();
    for (String line : Files.readAllLines(history)) {
      String[] f = line.trim().split(" ");
      // a line cut short (its writer killed while `date` ran, or mid-write) is no evidence either way
      if (f.length != 6 || !f[0].equals("alive") || !f[4].matches("[0-9]+") || !f[5].matches("[0-9]+")) continue;
      long t = Long.parseLong(f[4]);
      String key = f[3] + " " + f[1] + " " + f[2] + " " + f[5];
      long[] s = spans.computeIfAbsent(key, k -> new long[] {t, t});
      s[0] = Math.min(s[0], t);
      s[1] = Math.max(s[1], t);
    }
    List<Instance> out = new ArrayList<>();
    spans.forEach((k, s) -> {
      String[] f = k.split(" ");
      out.add(new Instance(f[0], f[1], Long.parseLong(f[2]), Long.parseLong(f[3]), s[0], s[1]));
    });
    return out;
  }

  public static void assertOneHostAtATime(Path history) throws IOException {
    List<Instance> all = instances(history);
    assertThat(all).as("the history %s recorded no instance: the check would prove nothing", history).isNotEmpty();
    for (Instance a : all) {
      for (Instance b : all) {
        if (a == b || !a.tag().equals(b.tag())) continue;
        boolean overlap = a.first() <= b.last() && b.first() <= a.last();
        assertThat(overlap).as("S1 violated: %s and %s of %s overlap", a, b, a.tag()).isFalse();
      }
    }
  }
}
