package dev.understudy.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/** How to start and stop the app's process. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Command(List<String> argv, String workDir, Map<String, String> env, List<String> stopCommand,
                      Long stopTimeoutMs, HealthCheck health) {

  public Command(List<String> argv, String workDir, Map<String, String> env, List<String> stopCommand, Long stopTimeoutMs) {
    this(argv, workDir, env, stopCommand, stopTimeoutMs, null);
  }
  public static final long DEFAULT_STOP_TIMEOUT_MS = 5000;

  public static Command of(String... argv) { return new Command(List.of(argv), null, Map.of(), List.of(), null, null); }

  public long stopTimeout() { return stopTimeoutMs == null ? DEFAULT_STOP_TIMEOUT_MS : stopTimeoutMs; }
}
