package dev.understudy.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * A resource the host acquires before the app starts and releases after it stops (FIG. 7A 812-814 "activates and
 * mounts", 7B 868-870 "dismounts and deactivates"): a volume, an address. {@code check} (optional) must succeed
 * after {@code start}; it is also how an operator sees the resource is held. Or, instead of the three commands,
 * {@code agent}: a resource agent and its parameters ({@link AgentSpec}, e.g.
 * {@code [ocf:heartbeat:IPaddr2, ip=10.0.0.50, cidr_netmask=24]}), whose start, monitor and stop actions are used.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ManagedResource(String name, List<String> start, List<String> stop, List<String> check, Long timeoutMs,
                              List<String> agent) {
  public ManagedResource(String name, List<String> start, List<String> stop, List<String> check, Long timeoutMs) {
    this(name, start, stop, check, timeoutMs, null);
  }

  /** A resource run through a resource agent ({@code agent}: its name, then its parameters as name=value). */
  public static ManagedResource ofAgent(String name, List<String> agent, Long timeoutMs) {
    return new ManagedResource(name, null, null, null, timeoutMs, agent);
  }

  public boolean byAgent() { return agent != null && !agent.isEmpty(); }

  public long timeout() { return timeoutMs == null ? 30_000 : timeoutMs; }
}
