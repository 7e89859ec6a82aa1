package dev.understudy.store;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Outcome of a transaction that was applied. {@code ok=false} is a definite "not applied":
 * the condition on {@code conflictKey} did not hold ({@code actualVersion} is what it was, 0 = absent).
 * A transaction whose outcome is unknown (timeout, lost leader) surfaces as {@link StoreUnavailableException}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TxnResult(boolean ok, long version, String conflictKey, Long expectedVersion, Long actualVersion) {
  public static TxnResult applied(long version) { return new TxnResult(true, version, null, null, null); }
  public static TxnResult conflict(String key, long expected, long actual) {
    return new TxnResult(false, 0, key, expected, actual);
  }
}
