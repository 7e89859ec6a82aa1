package dev.understudy.store;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One step of a transaction. {@code expect} is a condition on the key's current version:
 * null means unconditional, 0 means the key must not exist, n means its version must be n.
 * A CHECK step only tests its condition.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Op(Kind op, String key, String value, Long expect) {
  public enum Kind { PUT, DELETE, CHECK }

  public static Op put(String key, String value) { return new Op(Kind.PUT, key, value, null); }
  public static Op put(String key, String value, long expect) { return new Op(Kind.PUT, key, value, expect); }
  public static Op create(String key, String value) { return new Op(Kind.PUT, key, value, 0L); }
  public static Op delete(String key) { return new Op(Kind.DELETE, key, null, null); }
  public static Op delete(String key, long expect) { return new Op(Kind.DELETE, key, null, expect); }
  public static Op check(String key, long expect) { return new Op(Kind.CHECK, key, null, expect); }
}
