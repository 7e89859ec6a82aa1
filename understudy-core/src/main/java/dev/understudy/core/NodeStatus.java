package dev.understudy.core;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An immutable copy of what the node knows, for readers on other threads (API, console, metrics, housekeeping).
 * {@code mustApply}: the replica must have applied this index (with the lease's last write) before anything starts.
 * {@code readiness}: what this server publishes as lacking for each app.
 */
public record NodeStatus(Map<String, PeerStatus> peers, Map<String, List<Long>> failures, Set<String> uncertain,
                         long mustApply, Map<String, List<String>> readiness) {
  public static final NodeStatus EMPTY = new NodeStatus(Map.of(), Map.of(), Set.of(), 0, Map.of());
}
