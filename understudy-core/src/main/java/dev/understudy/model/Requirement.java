package dev.understudy.model;

import java.util.Locale;

/**
 * One resource requirement of an app (claims 1, 25-28): {@code exec:/path}, {@code path:/dir}, {@code port:N},
 * {@code cpu:N}, {@code memory:SIZE} or {@code label:NAME}.
 */
public record Requirement(Kind kind, String value, long amount) {
  public enum Kind { EXEC, PATH, PORT, CPU, MEMORY, LABEL }

  public static Requirement parse(String spec) {
    if (spec == null) throw new IllegalArgumentException("a resource must be KIND:VALUE");
    int colon = spec.indexOf(':');
    if (colon <= 0 || colon == spec.length() - 1) {
      throw new IllegalArgumentException("\"" + spec + "\" must be KIND:VALUE, KIND one of exec, path, port, cpu, memory, label");
    }
    String k = spec.substring(0, colon).toLowerCase(Locale.ROOT);
    String v = spec.substring(colon + 1);
    return switch (k) {
      case "exec", "path" -> {
        if (!v.startsWith("/")) throw new IllegalArgumentException("\"" + printable(spec) + "\": " + k + " needs an absolute path");
        if (!AppValidator.isPath(v)) {
          throw new IllegalArgumentException("\"" + printable(spec) + "\": " + k + " must be a path of at most "
              + AppValidator.MAX_PATH + " characters with no control characters");
        }
        yield new Requirement(k.equals("exec") ? Kind.EXEC : Kind.PATH, v, 0);
      }
      case "port" -> {
        long p = number(spec, v);
        if (p < 1 || p > 65535) throw new IllegalArgumentException("\"" + spec + "\": port must be 1-65535");
        yield new Requirement(Kind.PORT, v, p);
      }
      case "cpu" -> {
        long n = number(spec, v);
        if (n < 1) throw new IllegalArgumentException("\"" + spec + "\": cpu must be at least 1");
        yield new Requirement(Kind.CPU, v, n);
      }
      case "memory" -> new Requirement(Kind.MEMORY, v, Sizes.parseBytes(v));
      case "label" -> {
        if (!v.matches("[A-Za-z0-9._-]{1,64}")) throw new IllegalArgumentException("\"" + spec + "\": label must be 1-64 of A-Z a-z 0-9 . _ -");
        yield new Requirement(Kind.LABEL, v, 0);
      }
      default -> throw new IllegalArgumentException("\"" + spec + "\": unknown kind " + k + "; use exec, path, port, cpu, memory or label");
    };
  }

  /** The spec as an error can show it: control characters escaped, cut at 200 characters. */
  private static String printable(String spec) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < Math.min(spec.length(), 200); i++) {
      char ch = spec.charAt(i);
      if (ch < 0x20 || ch == 0x7f) b.append(String.format("\\u%04x", (int) ch));
      else b.append(ch);
    }
    return spec.length() > 200 ? b + "..." : b.toString();
  }

  private static long number(String spec, String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("\"" + spec + "\": " + v + " is not a number");
    }
  }

  @Override
  public String toString() { return kind.name().toLowerCase(Locale.ROOT) + ":" + value; }
}
