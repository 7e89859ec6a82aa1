package dev.understudy.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.Set;
import java.util.TreeSet;

/**
 * What operators have taken out of the cluster's hands, one record in the database ({@link Keys#MAINTENANCE}).
 * {@code cluster}: agents observe and report, and start, stop and move nothing (running apps keep running; a server
 * that loses its lease is still fenced). {@code drained}: servers whose apps move away, one at a time, and on which
 * nothing new is placed. {@code unmanaged}: apps the agents leave alone, wherever they run or do not.
 */
public record Maintenance(boolean cluster, Set<String> drained, Set<String> unmanaged) {
  public static final Maintenance NONE = new Maintenance(false, Set.of(), Set.of());

  public Maintenance {
    drained = drained == null ? Set.of() : Set.copyOf(drained);
    unmanaged = unmanaged == null ? Set.of() : Set.copyOf(unmanaged);
  }

  /** Whether the agents must take no decision of their own about this app. */
  public boolean handsOff(String tag) { return cluster || unmanaged.contains(tag); }

  public boolean drained(String server) { return drained.contains(server); }

  @JsonIgnore
  public boolean isNone() { return !cluster && drained.isEmpty() && unmanaged.isEmpty(); }

  public Maintenance withCluster(boolean on) { return new Maintenance(on, drained, unmanaged); }

  public Maintenance withDrained(String server, boolean drain) { return new Maintenance(cluster, toggle(drained, server, drain), unmanaged); }

  public Maintenance withUnmanaged(String tag, boolean off) { return new Maintenance(cluster, drained, toggle(unmanaged, tag, off)); }

  private static Set<String> toggle(Set<String> s, String x, boolean in) {
    Set<String> out = new TreeSet<>(s);
    if (in) out.add(x);
    else out.remove(x);
    return out;
  }
}
