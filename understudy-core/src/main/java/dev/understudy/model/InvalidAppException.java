package dev.understudy.model;

/** An app definition broke a rule; {@code field} names where. Nothing was written. */
public class InvalidAppException extends IllegalArgumentException {
  private final String field;

  public InvalidAppException(String field, String rule) {
    super(field + ": " + rule);
    this.field = field;
  }

  public String field() { return field; }
}
