package dev.understudy.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An app (or a managed resource) run through a script operators already have instead of a program of its own, named
 * by the first word of its command: {@code ocf:PROVIDER:TYPE} (an OCF resource agent, e.g. {@code ocf:heartbeat:IPaddr2},
 * with its parameters as the following {@code name=value} words), {@code lsb:NAME} (the init script
 * {@code /etc/init.d/NAME}) or {@code systemd:NAME.service} (a unit). The agent starts, monitors and stops it through
 * the script's own actions.
 */
public record AgentSpec(Standard standard, String provider, String type, Map<String, String> params) {
  public enum Standard { OCF, LSB, SYSTEMD }

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,127}");
  /** OCF parameter names become environment variables ({@code OCF_RESKEY_name}). */
  private static final Pattern PARAM = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");

  public AgentSpec {
    params = params == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
  }

  /** Whether {@code argv} names a resource agent (its first word has a known prefix), whether or not well formed. */
  public static boolean named(List<String> argv) {
    if (argv == null || argv.isEmpty() || argv.get(0) == null) return false;
    String w = argv.get(0);
    return w.startsWith("ocf:") || w.startsWith("lsb:") || w.startsWith("systemd:");
  }

  /**
   * The agent {@code argv} names, or empty when it names a program. A malformed one throws
   * {@link IllegalArgumentException} with a message that says what is wrong with which word.
   */
  public static Optional<AgentSpec> of(List<String> argv) {
    if (!named(argv)) return Optional.empty();
    String first = argv.get(0);
    String[] parts = first.split(":", -1);
    List<String> rest = argv.subList(1, argv.size());
    switch (parts[0]) {
      case "ocf" -> {
        if (parts.length != 3 || !NAME.matcher(parts[1]).matches() || !NAME.matcher(parts[2]).matches()) {
          throw new IllegalArgumentException("\"" + first + "\" must be ocf:PROVIDER:TYPE, e.g. ocf:heartbeat:IPaddr2");
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (String w : rest) {
          int eq = w == null ? -1 : w.indexOf('=');
          if (eq <= 0) throw new IllegalArgumentException("\"" + w + "\" must be a parameter as name=value");
          String name = w.substring(0, eq);
          if (!PARAM.matcher(name).matches()) {
            throw new IllegalArgumentException("parameter name \"" + name + "\" must be [A-Za-z_][A-Za-z0-9_]*");
          }
          if (params.put(name, w.substring(eq + 1)) != null) throw new IllegalArgumentException("parameter " + name + " is given twice");
        }
        return Optional.of(new AgentSpec(Standard.OCF, parts[1], parts[2], params));
      }
      case "lsb" -> {
        if (parts.length != 2 || !NAME.matcher(parts[1]).matches()) {
          throw new IllegalArgumentException("\"" + first + "\" must be lsb:NAME (a script in /etc/init.d)");
        }
        if (!rest.isEmpty()) throw new IllegalArgumentException(first + " takes no parameters (got " + rest + ")");
        return Optional.of(new AgentSpec(Standard.LSB, null, parts[1], Map.of()));
      }
      default -> {
        if (parts.length != 2 || !NAME.matcher(parts[1]).matches() || !parts[1].contains(".")) {
          throw new IllegalArgumentException("\"" + first + "\" must be systemd:NAME.service");
        }
        if (!rest.isEmpty()) throw new IllegalArgumentException(first + " takes no parameters (got " + rest + ")");
        return Optional.of(new AgentSpec(Standard.SYSTEMD, null, parts[1], Map.of()));
      }
    }
  }

  /** As an operator writes it: {@code ocf:heartbeat:IPaddr2}, {@code lsb:nginx}, {@code systemd:nginx.service}. */
  public String name() {
    return switch (standard) {
      case OCF -> "ocf:" + provider + ":" + type;
      case LSB -> "lsb:" + type;
      case SYSTEMD -> "systemd:" + type;
    };
  }
}
