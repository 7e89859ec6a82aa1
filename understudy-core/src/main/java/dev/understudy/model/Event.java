package dev.understudy.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/**
 * Something operators should know: a failure detected, a failover done or failed, a missing resource, a pending
 * failback, an operator action. {@code id} is unique cluster-wide (server + sequence), so notifiers deliver once.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Event(String id, long timeMillis, String kind, String server, String app, String message,
                    Map<String, String> details) {}
