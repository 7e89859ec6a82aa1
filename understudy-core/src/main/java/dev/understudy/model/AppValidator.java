package dev.understudy.model;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Rules an app object must satisfy before anything is written. Each failure names the field and the rule. */
public final class AppValidator {
  public static final Pattern TAG = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  public static final Pattern SERVER_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  public static final int MAX_MARKER_BYTES = 64 * 1024;
  public static final int MAX_ATTRIBUTES = 256;

  private AppValidator() {}

  /** @param knownServers the cluster's server ids; an app may only name those. */
  public static void validate(App a, Set<String> knownServers) {
    if (a == null) throw new InvalidAppException("app", "is required");
    if (a.tag() == null || !TAG.matcher(a.tag()).matches()) {
      throw new InvalidAppException("tag", "must be 1-64 characters of A-Z a-z 0-9 . _ - (got " + quote(a.tag()) + ")");
    }
    if (a.type() == null) throw new InvalidAppException("type", "must be CAPABLE or AWARE");
    Command c = a.command();
    if (c == null || c.argv() == null || c.argv().isEmpty() || c.argv().get(0) == null || c.argv().get(0).isBlank()) {
      throw new InvalidAppException("command.argv", "must name the program to run");
    }
    if (c.argv().stream().anyMatch(s -> s == null || s.indexOf('\0') >= 0)) {
      throw new InvalidAppException("command.argv", "must not contain null or NUL characters");
    }
    try {
      if (AgentSpec.of(c.argv()).isPresent() && c.stopCommand() != null && !c.stopCommand().isEmpty()) {
        throw new InvalidAppException("command.stopCommand", c.argv().get(0) + " is stopped by its own stop action: leave stopCommand out");
      }
    } catch (IllegalArgumentException e) {
      throw new InvalidAppException("command.argv", e.getMessage());
    }
    if (c.argv().get(0).startsWith("systemd:")) {
      // systemd runs the unit, as the unit says: what the cluster would set here would never reach it
      if (c.user() != null || c.group() != null) {
        throw new InvalidAppException(c.user() != null ? "command.user" : "command.group", c.argv().get(0)
            + " runs as its unit's User= and Group=: leave user and group out");
      }
      if (c.env() != null && !c.env().isEmpty()) {
        throw new InvalidAppException("command.env", c.argv().get(0) + " gets its unit's Environment=: leave env out (set it in a drop-in)");
      }
      if (c.workDir() != null) {
        throw new InvalidAppException("command.workDir", c.argv().get(0) + " runs in its unit's WorkingDirectory=: leave workDir out");
      }
    }
    if (c.startTimeoutMs() != null && (c.startTimeoutMs() < 100 || c.startTimeoutMs() > 3_600_000)) {
      throw new InvalidAppException("command.startTimeoutMs", "must be between 100 and 3600000 (got " + c.startTimeoutMs() + ")");
    }
    if (c.stopTimeoutMs() != null && (c.stopTimeoutMs() < 100 || c.stopTimeoutMs() > 600_000)) {
      throw new InvalidAppException("command.stopTimeoutMs", "must be between 100 and 600000 (got " + c.stopTimeoutMs() + ")");
    }
    if (c.env() != null) {
      for (var e : c.env().entrySet()) {
        if (e.getKey() == null || !e.getKey().matches("[A-Za-z_][A-Za-z0-9_]*") || e.getValue() == null) {
          throw new InvalidAppException("command.env", "names must be [A-Za-z_][A-Za-z0-9_]* with a value (got " + quote(e.getKey()) + ")");
        }
        if (e.getValue().indexOf('\0') >= 0) throw new InvalidAppException("command.env", e.getKey() + " must not contain a NUL character");
      }
    }
    if (c.workDir() != null && !isPath(c.workDir())) {
      throw new InvalidAppException("command.workDir", "must be an absolute path of at most " + MAX_PATH + " characters, no control characters");
    }
    argv("command.stopCommand", c.stopCommand());
    if (c.user() != null && !ACCOUNT.matcher(c.user()).matches()) {
      throw new InvalidAppException("command.user", "must be a user name ([a-z_][a-z0-9_-]*, at most 32) or number (got " + quote(c.user()) + ")");
    }
    if (c.group() != null && !ACCOUNT.matcher(c.group()).matches()) {
      throw new InvalidAppException("command.group", "must be a group name ([a-z_][a-z0-9_-]*, at most 32) or number (got " + quote(c.group()) + ")");
    }
    HealthCheck h = c.health();
    if (h != null) {
      int kinds = (h.port() != null ? 1 : 0) + (h.http() != null ? 1 : 0) + (h.command() != null ? 1 : 0);
      boolean agent = AgentSpec.named(c.argv());
      // an agent app's health without a probe of its own is its agent's monitor action, at this interval and timeout
      if (kinds > 1 || (kinds == 0 && !agent)) {
        throw new InvalidAppException("command.health", agent ? "needs at most one of port, http or command (none: the agent's monitor)"
            : "needs exactly one of port, http or command");
      }
      if (h.port() != null && (h.port() < 1 || h.port() > 65535)) throw new InvalidAppException("command.health.port", "must be 1-65535");
      if (h.http() != null && !h.http().matches("https?://.+")) throw new InvalidAppException("command.health.http", "must be an http:// URL");
      if (h.command() != null && h.command().isEmpty()) throw new InvalidAppException("command.health.command", "must name a program");
      argv("command.health.command", h.command());
      if (h.interval() < 100 || h.interval() > 3_600_000) throw new InvalidAppException("command.health.intervalMs", "must be 100-3600000");
      if (h.timeout() < 50 || h.timeout() > 600_000) throw new InvalidAppException("command.health.timeoutMs", "must be 50-600000");
      if (h.failuresAllowed() < 1 || h.failuresAllowed() > 100) throw new InvalidAppException("command.health.failures", "must be 1-100");
    }
    checkServer("primary", a.primary(), knownServers);
    if (a.backups().isEmpty()) throw new InvalidAppException("backups", "must name at least one backup server");
    Set<String> seen = new HashSet<>();
    seen.add(a.primary());
    for (String b : a.backups()) {
      checkServer("backups", b, knownServers);
      if (!seen.add(b)) {
        throw new InvalidAppException("backups", b.equals(a.primary())
            ? "must not include the primary " + b : "names " + b + " twice");
      }
    }
    if (a.hasHost() && !a.servers().contains(a.host())) {
      throw new InvalidAppException("host", "must be the primary or a backup (got " + quote(a.host()) + ")");
    }
    if (a.hasMoveTarget() && !a.servers().contains(a.target())) {
      throw new InvalidAppException("target", "must be the primary or a backup (got " + quote(a.target()) + ")");
    }
    for (String r : a.resources()) {
      try {
        Requirement.parse(r);
      } catch (IllegalArgumentException e) {
        throw new InvalidAppException("resources", e.getMessage());
      }
    }
    java.util.Set<String> names = new HashSet<>();
    for (ManagedResource m : a.managed()) {
      if (m == null || m.name() == null || !m.name().matches("[A-Za-z0-9._-]{1,64}")) {
        throw new InvalidAppException("managed", "each managed resource needs a name of 1-64 of A-Z a-z 0-9 . _ -");
      }
      if (!names.add(m.name())) throw new InvalidAppException("managed", "names " + m.name() + " twice");
      if (m.byAgent()) {
        boolean commands = (m.start() != null && !m.start().isEmpty()) || (m.stop() != null && !m.stop().isEmpty())
            || (m.check() != null && !m.check().isEmpty());
        if (commands) throw new InvalidAppException("managed", m.name() + ": give either agent or start/stop/check, not both");
        try {
          if (AgentSpec.of(m.agent()).isEmpty()) {
            throw new InvalidAppException("managed", m.name() + ": agent must start with ocf:, lsb: or systemd: (got " + quote(m.agent().get(0)) + ")");
          }
        } catch (IllegalArgumentException e) {
          throw new InvalidAppException("managed", m.name() + ": " + e.getMessage());
        }
        argv("managed", m.agent());
      } else if (m.start() == null || m.start().isEmpty()) {
        throw new InvalidAppException("managed", m.name() + " needs a start command (or an agent)");
      }
      argv("managed", m.start());
      argv("managed", m.stop());
      argv("managed", m.check());
      if (m.timeoutMs() != null && (m.timeoutMs() < 100 || m.timeoutMs() > 600_000)) {
        throw new InvalidAppException("managed", m.name() + ": timeoutMs must be between 100 and 600000");
      }
    }
    Service s = a.service();
    if (s != null) {
      if (!validPort(s.clusterPort())) throw new InvalidAppException("service.clusterPort", "must be 1-65535 (got " + s.clusterPort() + ")");
      if (!validPort(s.appPort())) throw new InvalidAppException("service.appPort", "must be 1-65535 (got " + s.appPort() + ")");
      if (s.virtualIp() != null) {
        if (!s.virtualIp().matches("(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}")) {
          throw new InvalidAppException("service.virtualIp", "must be an IPv4 address (got " + quote(s.virtualIp()) + ")");
        }
        if (s.virtualIpInterface() == null || !s.virtualIpInterface().matches("[A-Za-z0-9._-]{1,15}")) {
          throw new InvalidAppException("service.virtualIpInterface", "must name the interface to add the address to");
        }
        if (s.virtualIpNetns() != null && !s.virtualIpNetns().matches("[A-Za-z0-9._-]{1,64}")) {
          throw new InvalidAppException("service.virtualIpNetns", "must be a network namespace name");
        }
      }
    }
    if (a.epoch() < 0) throw new InvalidAppException("epoch", "must not be negative");
    Map<String, String> attrs = a.attributes();
    if (attrs.size() > MAX_ATTRIBUTES) throw new InvalidAppException("attributes", "at most " + MAX_ATTRIBUTES + " entries");
    for (var e : attrs.entrySet()) {
      if (e.getKey().isEmpty() || e.getKey().length() > 128) throw new InvalidAppException("attributes", "keys must be 1-128 characters");
      if (e.getValue() == null || e.getValue().length() > 4096) throw new InvalidAppException("attributes", "values must be at most 4096 characters (key " + e.getKey() + ")");
    }
  }

  private static boolean validPort(int p) { return p >= 1 && p <= 65535; }

  /** A user or group: a name as useradd takes it, or a number. */
  public static final java.util.regex.Pattern ACCOUNT = java.util.regex.Pattern.compile("[a-z_][a-z0-9_-]{0,31}|[0-9]{1,10}");

  /** The longest path a resource or working directory may name (Linux' PATH_MAX). */
  public static final int MAX_PATH = 4096;

  /** An absolute path of at most {@link #MAX_PATH} characters with no control character (no NUL above all). */
  public static boolean isPath(String p) {
    if (p == null || !p.startsWith("/") || p.length() > MAX_PATH) return false;
    for (int i = 0; i < p.length(); i++) {
      char ch = p.charAt(i);
      if (ch < 0x20 || ch == 0x7f) return false;
    }
    return true;
  }

  /** A command's words may hold anything a program can be given, except NUL (which no exec can pass). */
  private static void argv(String field, java.util.List<String> words) {
    if (words == null) return;
    for (String w : words) {
      if (w == null || w.indexOf('\0') >= 0) throw new InvalidAppException(field, "must not contain null or NUL characters");
    }
  }

  private static void checkServer(String field, String id, Set<String> known) {
    if (id == null || !SERVER_ID.matcher(id).matches()) throw new InvalidAppException(field, "must be a server id (got " + quote(id) + ")");
    if (known != null && !known.contains(id)) {
      throw new InvalidAppException(field, "unknown server " + quote(id) + "; the cluster has " + new java.util.TreeSet<>(known));
    }
  }

  private static String quote(String s) { return s == null ? "nothing" : "\"" + s + "\""; }
}
