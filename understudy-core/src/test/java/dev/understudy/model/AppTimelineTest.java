package dev.understudy.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.model.AppTimeline.Hosted;
import dev.understudy.model.AppTimeline.Outage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AppTimelineTest {
  static Event ev(long t, String kind, String server, Map<String, String> details) {
    return new Event(null, t, kind, server, "web", kind, details);
  }

  @Test
  void runsAndOutagesFromACrashAFailoverAFailbackAndAnUnload() {
    List<Event> events = List.of(
        ev(30_000, "UNLOADED", "s1", Map.of()), // any order in: sorted by time
        ev(1_000, "RUNNING", "s1", Map.of("epoch", "1")),
        ev(5_000, "APP_CRASHED", "s1", Map.of()),
        ev(5_400, "APP_RESTARTED", "s1", Map.of("epoch", "1", "downMs", "400")),
        ev(7_000, "SERVER_SUSPECT", "s2", Map.of()), // not about where the app runs
        ev(10_000, "FAILOVER", "s2", Map.of("failed", "s1", "downForMs", "300", "silentForMs", "900")),
        ev(10_500, "RUNNING", "s2", Map.of("epoch", "2")),
        ev(12_000, "RUNNING", "s2", Map.of("epoch", "2")), // reported again (an approval): the same run
        ev(20_000, "FAILBACK", "s2", Map.of("stopMs", "200")),
        ev(20_600, "RUNNING", "s1", Map.of("epoch", "3")));
    AppTimeline.Timeline t = AppTimeline.of(events);
    assertThat(t.hosted()).containsExactly(
        new Hosted("s1", 1L, 1_000, 5_000L, "APP_CRASHED"),
        new Hosted("s1", 1L, 5_400, 9_100L, "FAILOVER"),
        new Hosted("s2", 2L, 10_500, 19_800L, "FAILBACK"),
        new Hosted("s1", 3L, 20_600, 30_000L, "UNLOADED"));
    assertThat(t.outages()).containsExactly(
        new Outage(5_000, 5_400L, 400L, "crashed on s1"),
        new Outage(9_100, 10_500L, 1_400L, "s1 failed"),
        new Outage(19_800, 20_600L, 800L, "failback from s2"));
  }

  @Test
  void anAppStillRunningOrStillDownHasAnOpenEnd() {
    AppTimeline.Timeline running = AppTimeline.of(List.of(ev(1_000, "RUNNING", "s1", Map.of("epoch", "1"))));
    assertThat(running.hosted()).containsExactly(new Hosted("s1", 1L, 1_000, null, null));
    assertThat(running.outages()).isEmpty();

    AppTimeline.Timeline failed = AppTimeline.of(List.of(ev(1_000, "RUNNING", "s1", Map.of("epoch", "1")),
        ev(2_000, "CRASH_LOOP", "s1", Map.of("stopMs", "50")), ev(2_500, "START_FAILED", "s2", Map.of()),
        ev(3_000, "APP_FAILED", "s2", Map.of())));
    assertThat(failed.hosted()).containsExactly(new Hosted("s1", 1L, 1_000, 1_950L, "CRASH_LOOP"));
    assertThat(failed.outages()).containsExactly(new Outage(1_950, null, null, "crash loop on s1"));
  }

  @Test
  void aFailoverOfAnotherServerOrEventsWithoutTheStartAreReadAsWellAsTheyCanBe() {
    // the first events were pruned: the app was already down when the failover came
    AppTimeline.Timeline t = AppTimeline.of(List.of(ev(10_000, "FAILOVER", "s2", Map.of("failed", "s1", "downForMs", "300")),
        ev(10_400, "RUNNING", "s2", Map.of("epoch", "5"))));
    assertThat(t.hosted()).containsExactly(new Hosted("s2", 5L, 10_400, null, null));
    assertThat(t.outages()).containsExactly(new Outage(10_000, 10_400L, 400L, "s1 failed"));
    // a RUNNING elsewhere without an end seen (an event pruned or lost): the first run ends there, no outage is invented
    AppTimeline.Timeline moved = AppTimeline.of(List.of(ev(1_000, "RUNNING", "s1", Map.of()), ev(2_000, "RUNNING", "s2", Map.of())));
    assertThat(moved.hosted()).containsExactly(new Hosted("s1", null, 1_000, 2_000L, "moved"), new Hosted("s2", null, 2_000, null, null));
    assertThat(moved.outages()).isEmpty();
  }
}
