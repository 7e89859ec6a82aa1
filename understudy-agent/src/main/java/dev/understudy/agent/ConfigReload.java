package dev.understudy.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What {@code understudy config reload} (or SIGHUP) changes in a running agent, and what needs a restart. Only sections
 * that touch no part of the failover protocol apply at run time: how operators are notified, what this server declares
 * it has, which account apps run as. Addresses, ports, peers, timing, TLS, the disk pulse, the uplink and the database
 * are read once at start: a change there is reported as needing a restart (which moves nothing: see
 * {@link Agent#closeForRestart()}).
 */
public final class ConfigReload {
  private ConfigReload() {}

  /** The top-level sections applied at run time. */
  static final Set<String> LIVE = Set.of("notifications", "inventory", "apps");

  /** The keys a reload applied, and those that differ but take effect only at the next start. */
  public record Result(List<String> applied, List<String> needRestart) {}

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Splits the keys that differ between {@code current} and {@code next} (dotted paths) into applied and not. */
  static Result plan(AgentConfig current, AgentConfig next) {
    List<String> applied = new ArrayList<>();
    List<String> needRestart = new ArrayList<>();
    for (String key : changedKeys(current, next)) {
      String section = key.contains(".") ? key.substring(0, key.indexOf('.')) : key;
      (LIVE.contains(section) ? applied : needRestart).add(key);
    }
    return new Result(applied, needRestart);
  }

  /** Dotted keys whose values differ (a section added or removed: each key set in it). */
  static Set<String> changedKeys(AgentConfig a, AgentConfig b) {
    Set<String> out = new TreeSet<>();
    diff("", MAPPER.valueToTree(a), MAPPER.valueToTree(b), out);
    return out;
  }

  private static void diff(String path, JsonNode a, JsonNode b, Set<String> out) {
    boolean aObj = a != null && a.isObject();
    boolean bObj = b != null && b.isObject();
    // a section added or removed: the keys set in it
    if (aObj && isNull(b)) b = MAPPER.createObjectNode();
    if (bObj && isNull(a)) a = MAPPER.createObjectNode();
    if ((aObj || bObj) && a.isObject() && b.isObject()) {
      Set<String> names = new TreeSet<>();
      a.fieldNames().forEachRemaining(names::add);
      b.fieldNames().forEachRemaining(names::add);
      for (String n : names) {
        JsonNode x = a.get(n);
        JsonNode y = b.get(n);
        if (isNull(x) && isNull(y)) continue;
        diff(path.isEmpty() ? n : path + "." + n, x, y, out);
      }
      return;
    }
    if (isNull(a) && isNull(b)) return;
    if (a == null || b == null || !a.equals(b)) out.add(path);
  }

  private static boolean isNull(JsonNode n) { return n == null || n.isNull(); }

  /** {@code current} with the live sections of {@code next}. */
  static AgentConfig applyLive(AgentConfig current, AgentConfig next) {
    return current.withLive(next.notifications(), next.inventory(), next.apps());
  }
}
