package dev.understudy.agent;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** "250ms", "2s", "1m" -> Duration. */
public final class Durations {
  private static final Pattern P = Pattern.compile("(\\d+)\\s*(ms|s|m)");

  private Durations() {}

  public static Duration parse(String key, String s) {
    if (s == null) throw new ConfigException(key, "is required, e.g. 500ms or 2s");
    Matcher m = P.matcher(s.trim());
    if (!m.matches()) throw new ConfigException(key, "\"" + s + "\" is not a duration; use e.g. 500ms, 2s or 1m");
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      default -> Duration.ofMinutes(n);
    };
  }

  public static String format(Duration d) { return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms"; }
}
