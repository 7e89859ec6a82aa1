package dev.understudy.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/**
 * Something operators should know: a failure detected, a failover done or failed, a missing resource, a pending
 * failback, an operator action. {@code id} is unique cluster-wide (server + sequence), so notifiers deliver once.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Event(String id, long timeMillis, String kind, String server, String app, String message,
                    Map<String, String> details) {
  /** The same event with one more detail (a figure the core measured when it raised it). */
  public Event withDetail(String key, String value) {
    Map<String, String> d = new java.util.LinkedHashMap<>(details == null ? Map.of() : details);
    d.put(key, value);
    return new Event(id, timeMillis, kind, server, app, message, Map.copyOf(d));
  }
}
