package dev.understudy.client;

/**
 * A marker write from an instance whose epoch is no longer the app's: a newer instance runs elsewhere (this one was
 * fenced, for example after a pause). The instance must stop; its write was not applied.
 */
public class StaleEpochException extends UnderstudyException {
  public StaleEpochException(String message) { super(409, message); }
}
