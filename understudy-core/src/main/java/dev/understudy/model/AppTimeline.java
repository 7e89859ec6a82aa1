package dev.understudy.model;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Where an app ran over time and how long each outage lasted, read from its events: the picture an operator wants
 * after an incident. Times are the events' wall-clock stamps (each from the agent that raised it), so two servers'
 * clocks meet at each hand-over; the lengths the servers measured themselves move the edges to when the app really
 * stopped: a failover's {@code silentForMs} (since the failed host's last LAN answer; {@code downForMs}, since its DOWN
 * verdict, in older events), a hand-over's {@code stopMs}.
 */
public final class AppTimeline {
  private AppTimeline() {}

  /** The app ran on {@code server} at {@code epoch} from {@code fromMillis} to {@code toMillis} (null: still runs). */
  public record Hosted(String server, Long epoch, long fromMillis, Long toMillis, String endedBy) {}

  /** The app ran nowhere from {@code fromMillis} to {@code toMillis} (null: still down), and why. */
  public record Outage(long fromMillis, Long toMillis, Long millis, String cause) {}

  public record Timeline(List<Hosted> hosted, List<Outage> outages) {}

  /** {@code events}: the app's events, any order. Unloads and removals are planned, not outages. */
  public static Timeline of(List<Event> events) {
    List<Event> sorted = new ArrayList<>(events);
    sorted.sort(Comparator.comparingLong(Event::timeMillis));
    List<Hosted> hosted = new ArrayList<>();
    List<Outage> outages = new ArrayList<>();
    Hosted open = null;
    Long downFrom = null;
    String cause = null;
    for (Event e : sorted) {
      long t = e.timeMillis();
      Map<String, String> d = e.details() == null ? Map.of() : e.details();
      switch (e.kind()) {
        case "RUNNING", "APP_RESTARTED" -> {
          if (open != null && open.server().equals(e.server())) continue; // the same run (an approval, a second report)
          if (open != null) hosted.add(close(open, t, "moved"));
          open = new Hosted(e.server(), number(d.get("epoch")), t, null, null);
          if (downFrom != null) outages.add(new Outage(downFrom, t, t - downFrom, cause));
          downFrom = null;
        }
        case "APP_CRASHED", "FAILOVER", "FAILBACK", "MOVE", "DRAIN", "CRASH_LOOP", "MISSING_RESOURCE", "UPLINK_LOST",
             "APP_FAILED", "UNPLACED", "UNLOADED", "REMOVED" -> {
          String from = e.kind().equals("FAILOVER") ? d.get("failed") : e.server();
          long end = t - millis(d, !e.kind().equals("FAILOVER") ? "stopMs" : d.containsKey("silentForMs") ? "silentForMs" : "downForMs");
          boolean endsRun = open != null && (from == null || open.server().equals(from));
          if (endsRun) {
            hosted.add(close(open, Math.max(open.fromMillis(), end), e.kind()));
            open = null;
          }
          boolean planned = e.kind().equals("UNLOADED") || e.kind().equals("REMOVED");
          if (planned) {
            downFrom = null;
          } else if (downFrom == null && (endsRun || open == null)) {
            downFrom = endsRun ? Math.max(hosted.get(hosted.size() - 1).toMillis(), end) : t;
            cause = cause(e, from);
          }
        }
        default -> { }
      }
    }
    if (open != null) hosted.add(open);
    if (downFrom != null) outages.add(new Outage(downFrom, null, null, cause));
    return new Timeline(List.copyOf(hosted), List.copyOf(outages));
  }

  private static Hosted close(Hosted h, long to, String endedBy) {
    return new Hosted(h.server(), h.epoch(), h.fromMillis(), to, endedBy);
  }

  private static String cause(Event e, String from) {
    return switch (e.kind()) {
      case "APP_CRASHED" -> "crashed on " + from;
      case "FAILOVER" -> from + " failed";
      case "FAILBACK" -> "failback from " + from;
      case "MOVE" -> "moved from " + from;
      case "DRAIN" -> from + " drained";
      case "CRASH_LOOP" -> "crash loop on " + from;
      case "MISSING_RESOURCE" -> from + " lacks a resource it needs";
      case "UPLINK_LOST" -> from + " lost its uplink";
      case "APP_FAILED" -> "failed everywhere";
      default -> "no server could run it";
    };
  }

  private static long millis(Map<String, String> d, String key) {
    Long n = number(d.get(key));
    return n == null || n < 0 ? 0 : n;
  }

  private static Long number(String s) {
    if (s == null) return null;
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
