package dev.understudy.store;

/**
 * The database could not answer in time: no leader, no quorum, or a timeout. For a write the outcome is
 * UNKNOWN: it may still be applied later. Callers must re-read before deciding it failed.
 */
public class StoreUnavailableException extends RuntimeException {
  public StoreUnavailableException(String message, Throwable cause) { super(message, cause); }
}
