package dev.understudy.core;

import dev.understudy.decide.Action;
import dev.understudy.model.Event;
import java.util.List;

/**
 * What the node should do now. {@code actions}: starts, promotions and stops, in order. {@code commits}: writes to
 * send together; their results go back as inputs before {@link NodeCore#advance}. {@code events}: to record (not yet
 * stamped). {@code routes}: the whole routing table when it changed, else null. {@code measures}: timings for the
 * metrics. {@code wakeAtNanos}: when time alone next changes a decision (Long.MAX_VALUE: only an input does).
 */
public record Ready(List<Action> actions, List<Action.Commit> commits, List<Event> events, List<RouteTarget> routes,
                    List<Measure> measures, long wakeAtNanos) {
  /** A timing for the metrics: what took how long. */
  public record Measure(Kind kind, double seconds) {
    public enum Kind { DETECTION, FAILOVER, FAILBACK, MOVE }
  }

  public static final Ready NONE = new Ready(List.of(), List.of(), List.of(), null, List.of(), Long.MAX_VALUE);

  public boolean isEmpty() {
    return actions.isEmpty() && commits.isEmpty() && events.isEmpty() && routes == null && measures.isEmpty();
  }
}
