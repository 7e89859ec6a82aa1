package dev.understudy.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * How the host checks that a running app is healthy, beyond its process being alive: a TCP connect to {@code port},
 * an HTTP GET of {@code http} (2xx/3xx), or {@code command} exiting 0. {@code failures} consecutive failures count as
 * a crash (restarted locally, then failed over, claims 57 and 61). The first success also marks a starting app RUNNING.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HealthCheck(Integer port, String http, List<String> command, Long intervalMs, Long timeoutMs, Integer failures) {
  public long interval() { return intervalMs == null ? 2000 : intervalMs; }

  public long timeout() { return timeoutMs == null ? 1000 : timeoutMs; }

  public int failuresAllowed() { return failures == null ? 3 : failures; }
}
