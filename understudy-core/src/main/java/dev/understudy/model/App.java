package dev.understudy.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The app object (patent FIG. 2): one per clustered application, keyed by its tag. Immutable; the
 * {@code with...} methods return changed copies. {@code version} is the database version it was read at. Its marker
 * (the aware app's checkpoint) is kept beside it under {@code markers/TAG}, so frequent checkpoints do not change
 * the version operators edit against.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record App(
    String tag,
    AppType type,
    Command command,
    String host,
    String primary,
    List<String> backups,
    List<String> resources,
    List<ManagedResource> managed,
    boolean autoFailback,
    Service service,
    long epoch,
    AppState state,
    String stateReason,
    String target,
    boolean displaced,
    Map<String, String> attributes,
    long resets,
    long version) {

  /** {@code target} value meaning "stop it and leave it unloaded" (an operator's unload, done by the host). */
  public static final String UNLOAD = "-";
  /**
   * {@code target} value meaning "stop it, then remove it": set by an operator's remove while a host may run it; the
   * host (or, if it is DOWN with its lease gone, the first live server) removes the object once nothing runs.
   */
  public static final String REMOVE = "--";

  /** A target that names a server to move to (not an unload or a remove). */
  public boolean hasMoveTarget() { return target != null && !UNLOAD.equals(target) && !REMOVE.equals(target); }

  public boolean beingRemoved() { return REMOVE.equals(target); }

  public App {
    backups = backups == null ? List.of() : List.copyOf(backups);
    resources = resources == null ? List.of() : List.copyOf(resources);
    managed = managed == null ? List.of() : List.copyOf(managed);
    attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
  }

  /** A new app placed on its primary. */
  public static App create(String tag, AppType type, Command command, String primary, List<String> backups,
                           List<String> resources, boolean autoFailback, Service service, Map<String, String> attributes) {
    return new App(tag, type, command, primary, primary, backups, resources, List.of(), autoFailback, service, 1,
        AppState.STARTING, null, null, false, attributes, 0, 0);
  }

  /** Primary first, then backups in order: the servers that may host the app. */
  public List<String> servers() {
    List<String> all = new ArrayList<>();
    all.add(primary);
    all.addAll(backups);
    return all;
  }

  public boolean hasHost() { return host != null && !host.isEmpty(); }

  public App withManaged(List<ManagedResource> m) {
    return new App(tag, type, command, host, primary, backups, resources, m, autoFailback, service, epoch, state,
        stateReason, target, displaced, attributes, resets, version);
  }

  public App withCommand(Command c) {
    return new App(tag, type, c, host, primary, backups, resources, managed, autoFailback, service, epoch, state,
        stateReason, target, displaced, attributes, resets, version);
  }

  public App withVersion(long v) {
    return new App(tag, type, command, host, primary, backups, resources, managed, autoFailback, service, epoch, state,
        stateReason, target, displaced, attributes, resets, v);
  }

  /** A host change by choice (placement, move, failback, unload): bumps the epoch, the new instance's fencing token. */
  public App movedTo(String newHost, AppState newState, String reason) {
    return new App(tag, type, command, newHost, primary, backups, resources, managed, autoFailback, service, epoch + 1,
        newState, reason, null, false, attributes, resets, version);
  }

  /**
   * A host change forced by a failure (failover, lost uplink, missing resource): bumps the epoch and marks the app
   * displaced, so it goes home when its primary is back. An operator's move is not undone by a failback.
   */
  public App displacedTo(String newHost, AppState newState, String reason) {
    return new App(tag, type, command, newHost, primary, backups, resources, managed, autoFailback, service, epoch + 1,
        newState, reason, null, true, attributes, resets, version);
  }

  public App withState(AppState s, String reason) {
    return new App(tag, type, command, host, primary, backups, resources, managed, autoFailback, service, epoch, s, reason,
        target, displaced, attributes, resets, version);
  }

  public App withTarget(String t) {
    return new App(tag, type, command, host, primary, backups, resources, managed, autoFailback, service, epoch, state,
        stateReason, t, displaced, attributes, resets, version);
  }

  public App withAttributes(Map<String, String> a) {
    return new App(tag, type, command, host, primary, backups, resources, managed, autoFailback, service, epoch, state,
        stateReason, target, displaced, a, resets, version);
  }

  /**
   * An operator's reset: every server forgets the failures of this app it counted before ({@code resets} grows), so a
   * server passed over for it qualifies again. A FAILED app is placed again by the first server that qualifies.
   */
  public App withFailuresReset() {
    return new App(tag, type, command, host, primary, backups, resources, managed, autoFailback, service, epoch, state,
        stateReason, target, displaced, attributes, resets + 1, version);
  }

  /** The same app at another epoch (a re-added tag continues the epochs of its removed predecessor). */
  public App withEpoch(long e) {
    return new App(tag, type, command, host, primary, backups, resources, managed, autoFailback, service, e, state,
        stateReason, target, displaced, attributes, resets, version);
  }

  /** The operator-editable definition replaced, runtime fields (host, epoch, state, target) kept. */
  public App withDefinition(App d) {
    return new App(tag, d.type, d.command, host, d.primary, d.backups, d.resources, d.managed, d.autoFailback, d.service, epoch,
        state, stateReason, target, displaced, d.attributes, resets, version);
  }
}
