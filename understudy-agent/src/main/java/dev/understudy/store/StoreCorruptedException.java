package dev.understudy.store;

/** The replica's data directory cannot be read back. Never silently reset: an operator must decide. */
public class StoreCorruptedException extends RuntimeException {
  public StoreCorruptedException(String message, Throwable cause) { super(message, cause); }
}
