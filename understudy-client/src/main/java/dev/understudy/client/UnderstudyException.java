package dev.understudy.client;

/** The agent refused a request ({@code status} is the HTTP status) or could not be reached ({@code status} 0). */
public class UnderstudyException extends RuntimeException {
  private final int status;

  public UnderstudyException(int status, String message) {
    super(message);
    this.status = status;
  }

  public int status() { return status; }
}
