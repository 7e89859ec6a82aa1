package dev.understudy.core;

import dev.understudy.model.App;
import dev.understudy.model.AppState;
import java.util.Set;

/**
 * What an operator may do to an app, and what each command writes (FIG. 6 load, unload, move, failback approval,
 * reset, a new definition). Pure: the API reads the app, asks here, and writes the result conditional on the version
 * it read; the host's agent then carries the change out ({@code Decider}). A command that cannot apply is refused with
 * a reason an operator can act on, and changes nothing.
 */
public final class OperatorRules {
  private OperatorRules() {}

  /** Why a command was refused: the app's state forbids it now, the request is wrong, or it names nothing known. */
  public enum Refusal { CONFLICT, BAD_REQUEST, NOT_FOUND }

  /** A refused command. */
  public static final class Refused extends RuntimeException {
    private final Refusal refusal;

    Refused(Refusal refusal, String message) {
      super(message);
      this.refusal = refusal;
    }

    public Refusal refusal() { return refusal; }
  }

  /** The app to write and what to tell the audit trail. */
  public record Transition(App next, String message) {}

  /** Every command but a remove is refused while a removal is under way. */
  public static App notBeingRemoved(App a) {
    if (a.beingRemoved()) throw new Refused(Refusal.CONFLICT, a.tag() + " is being removed; nothing else can change it");
    return a;
  }

  /** The host stops it and leaves it unloaded; nothing restarts it until it is loaded. */
  public static Transition unload(App cur) {
    notBeingRemoved(cur);
    if (!cur.hasHost()) throw new Refused(Refusal.CONFLICT, cur.tag() + " is not loaded (state " + cur.state() + ")");
    return new Transition(cur.withTarget(App.UNLOAD), "unload " + cur.tag() + " from " + cur.host());
  }

  /** FIG. 6: host empty, an operator loads it: host = primary. A load also says "try again": failures are forgotten. */
  public static Transition load(App cur) {
    notBeingRemoved(cur);
    if (cur.hasHost() && App.UNLOAD.equals(cur.target())) {
      throw new Refused(Refusal.CONFLICT, cur.tag() + " is being unloaded from " + cur.host() + "; load it again once it has stopped");
    }
    if (cur.hasHost()) throw new Refused(Refusal.CONFLICT, cur.tag() + " is already loaded on " + cur.host());
    return new Transition(cur.movedTo(cur.primary(), AppState.STARTING, "loaded by an operator").withFailuresReset(),
        "load " + cur.tag() + " on " + cur.primary());
  }

  /** Every server forgets the failures it counted for the app; a FAILED app is placed again. */
  public static Transition reset(App cur) {
    notBeingRemoved(cur);
    return new Transition(cur.withFailuresReset(), "reset the failures of " + cur.tag()
        + (cur.state() == AppState.FAILED ? " (FAILED: placed again on the first server that qualifies)" : ""));
  }

  /** A planned switchover: the host stops it, verifies it gone, and hands it to {@code to}. */
  public static Transition move(App cur, String to, Set<String> clusterServers) {
    notBeingRemoved(cur);
    if (to == null || to.isBlank()) throw new Refused(Refusal.BAD_REQUEST, "name the server to move to: ?to=SERVER or {\"to\": \"SERVER\"}");
    if (!clusterServers.contains(to)) throw new Refused(Refusal.NOT_FOUND, "unknown server " + to + "; the cluster has " + clusterServers);
    if (!cur.servers().contains(to)) {
      throw new Refused(Refusal.BAD_REQUEST, to + " is neither primary nor a backup of " + cur.tag() + " (" + cur.servers() + ")");
    }
    if (!cur.hasHost()) throw new Refused(Refusal.CONFLICT, cur.tag() + " is not loaded; load it first");
    if (to.equals(cur.host())) throw new Refused(Refusal.CONFLICT, cur.tag() + " already runs on " + to);
    return new Transition(cur.withTarget(to), "move " + cur.tag() + " from " + cur.host() + " to " + to);
  }

  /** FIG. 8 with autoFailback off: the operator approves the failback the host is waiting for. */
  public static Transition approveFailback(App cur) {
    notBeingRemoved(cur);
    if (cur.state() != AppState.FAILBACK_PENDING) {
      throw new Refused(Refusal.CONFLICT, cur.tag() + " has no failback pending (state " + cur.state() + ")");
    }
    return new Transition(cur.withTarget(cur.primary()), "approve failback of " + cur.tag() + " to " + cur.primary());
  }

  /** A new definition keeps where the app runs; a host no longer among its servers hands it to the new primary. */
  public static Transition replace(App cur, App definition) {
    notBeingRemoved(cur);
    App next = cur.withDefinition(definition);
    if (next.hasHost() && !next.servers().contains(next.host())) next = next.withTarget(next.primary());
    return new Transition(next, "replaced the definition of " + cur.tag());
  }
}
