package dev.understudy.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/** How to start and stop the app's process. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Command(List<String> argv, String workDir, Map<String, String> env, List<String> stopCommand,
                      Long stopTimeoutMs, HealthCheck health, Long startTimeoutMs) {

  public Command(List<String> argv, String workDir, Map<String, String> env, List<String> stopCommand, Long stopTimeoutMs) {
    this(argv, workDir, env, stopCommand, stopTimeoutMs, null, null);
  }

  public Command(List<String> argv, String workDir, Map<String, String> env, List<String> stopCommand, Long stopTimeoutMs,
                 HealthCheck health) {
    this(argv, workDir, env, stopCommand, stopTimeoutMs, health, null);
  }

  public static final long DEFAULT_STOP_TIMEOUT_MS = 5000;
  /** How long a start may take to become healthy (its service port answers, its health check passes) before it fails. */
  public static final long DEFAULT_START_TIMEOUT_MS = 60_000;

  public static Command of(String... argv) { return new Command(List.of(argv), null, Map.of(), List.of(), null, null, null); }

  public long stopTimeout() { return stopTimeoutMs == null ? DEFAULT_STOP_TIMEOUT_MS : stopTimeoutMs; }

  public long startTimeout() { return startTimeoutMs == null ? DEFAULT_START_TIMEOUT_MS : startTimeoutMs; }
}
