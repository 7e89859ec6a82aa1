package dev.understudy.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * How to start and stop the app's process. {@code user} and {@code group} (names or numbers): who the program runs as;
 * unset, the agent's default for apps ({@code apps.user} in its config), and without that the agent's own user.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Command(List<String> argv, String workDir, Map<String, String> env, List<String> stopCommand,
                      Long stopTimeoutMs, HealthCheck health, Long startTimeoutMs, String user, String group) {

  public Command(List<String> argv, String workDir, Map<String, String> env, List<String> stopCommand, Long stopTimeoutMs,
                 HealthCheck health, Long startTimeoutMs) {
    this(argv, workDir, env, stopCommand, stopTimeoutMs, health, startTimeoutMs, null, null);
  }

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

  /** The same command run as {@code user} and {@code group}. */
  public Command runAs(String user, String group) {
    return new Command(argv, workDir, env, stopCommand, stopTimeoutMs, health, startTimeoutMs, user, group);
  }

  /** The same command with these start and stop timeouts. */
  public Command withTimeouts(Long startMs, Long stopMs) {
    return new Command(argv, workDir, env, stopCommand, stopMs, health, startMs, user, group);
  }

  public long stopTimeout() { return stopTimeoutMs == null ? DEFAULT_STOP_TIMEOUT_MS : stopTimeoutMs; }

  public long startTimeout() { return startTimeoutMs == null ? DEFAULT_START_TIMEOUT_MS : startTimeoutMs; }
}
