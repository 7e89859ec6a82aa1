package dev.understudy.api;

/** An error an API caller can act on: HTTP status plus a message saying what to fix. */
public class ApiError extends RuntimeException {
  final int status;
  final Long currentVersion;

  public ApiError(int status, String message) { this(status, message, null); }

  public ApiError(int status, String message, Long currentVersion) {
    super(message);
    this.status = status;
    this.currentVersion = currentVersion;
  }
}
