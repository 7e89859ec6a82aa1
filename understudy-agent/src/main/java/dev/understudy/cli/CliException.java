package dev.understudy.cli;

/** A failure to report in one line, with the exit code it maps to (and the HTTP status behind it, 0 if none). */
public final class CliException extends RuntimeException {
  public final int exitCode;
  private final int status;

  public CliException(int exitCode, String message) { this(exitCode, message, 0); }

  public CliException(int exitCode, String message, int httpStatus) {
    super(message);
    this.exitCode = exitCode;
    this.status = httpStatus;
  }

  /** The agent's HTTP status when the agent answered with an error; 0 otherwise. */
  public int status() { return status; }
}
