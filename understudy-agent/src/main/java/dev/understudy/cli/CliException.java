package dev.understudy.cli;

/** A failure to report in one line, with the exit code it maps to. */
public final class CliException extends RuntimeException {
  public final int exitCode;

  public CliException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }
}
