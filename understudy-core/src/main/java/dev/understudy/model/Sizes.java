package dev.understudy.model;

import java.util.Locale;

/** "512M", "2G", "1024" (bytes) -> bytes. */
public final class Sizes {
  private Sizes() {}

  public static long parseBytes(String s) {
    if (s == null || s.isBlank()) throw new IllegalArgumentException("a size is required, e.g. 512M or 2G");
    String t = s.trim().toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
    long mult = 1;
    char last = t.charAt(t.length() - 1);
    switch (last) {
      case 'K' -> mult = 1L << 10;
      case 'M' -> mult = 1L << 20;
      case 'G' -> mult = 1L << 30;
      case 'T' -> mult = 1L << 40;
      default -> { }
    }
    if (mult > 1) t = t.substring(0, t.length() - 1);
    try {
      long n = Long.parseLong(t);
      if (n < 0) throw new NumberFormatException();
      return Math.multiplyExact(n, mult);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("\"" + s + "\" is not a size; use e.g. 512M or 2G");
    }
  }
}
