package dev.understudy.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * A resource the host acquires before the app starts and releases after it stops (FIG. 7A 812-814 "activates and
 * mounts", 7B 868-870 "dismounts and deactivates"): a volume, an address. {@code check} (optional) must succeed
 * after {@code start}; it is also how an operator sees the resource is held.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ManagedResource(String name, List<String> start, List<String> stop, List<String> check, Long timeoutMs) {
  public long timeout() { return timeoutMs == null ? 30_000 : timeoutMs; }
}
