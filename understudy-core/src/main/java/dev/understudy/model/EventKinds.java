package dev.understudy.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every kind of event Understudy records, and what it means: what {@code notifications.kinds} is checked against (a
 * misspelt kind would filter out everything), and what the README lists. A test keeps it equal to the kinds the code
 * raises.
 */
public final class EventKinds {
  private EventKinds() {}

  public static final Map<String, String> ALL;

  static {
    Map<String, String> m = new LinkedHashMap<>();
    // an app's life, decided by the agents (the patent's flows)
    m.put("PLACED", "a server with what the app needs takes an app that had no host");
    m.put("RUNNING", "the app runs on its host (after a start, a takeover or a move)");
    m.put("FAILOVER", "a backup takes over from a host that is DOWN with its lease gone (FIG. 7A, 9)");
    m.put("FAILOVER_DONE", "the app runs again after a failover; says how long clients were without it");
    m.put("FAILBACK", "the app moves back to its primary, which has returned (FIG. 7B)");
    m.put("FAILBACK_PENDING", "the primary is back; the app waits for an operator to approve the failback");
    m.put("MOVE", "the app moves where an operator asked");
    m.put("MOVE_REFUSED", "an operator's move cannot happen (the target does not qualify)");
    m.put("MISSING_RESOURCE", "the host lost something the app needs; the app moves to a server that has it");
    m.put("UPLINK_LOST", "a server lost its uplink; its apps move to a server that still reaches the network");
    m.put("UPLINK_OK", "a server's uplink answers again");
    m.put("DRAIN", "an app leaves a drained server for the first qualified server");
    m.put("CRASH_LOOP", "the app failed too often on a server; it moves on");
    m.put("APP_FAILED", "the app failed on every server it may run on; it waits for an operator (load, reset)");
    m.put("UNPLACED", "no server qualifies to run the app now");
    m.put("NO_QUALIFIED_BACKUP", "the app runs, but no backup could take it over now");
    m.put("UNLOADED", "the app was stopped and left unloaded");
    m.put("REMOVED", "the app was stopped on its host and its object removed");
    // what a host's supervisor saw
    m.put("APP_CRASHED", "the app's process exited on its own");
    m.put("APP_RESTARTED", "the app runs again on its host after a crash there, at the same epoch (with how long it was down)");
    m.put("APP_UNHEALTHY", "the app failed its health check too many times in a row and was killed");
    m.put("START_FAILED", "the app did not start, or was not healthy within its start timeout");
    m.put("RELEASE_FAILED", "a managed resource could not be released; the app is held back from other servers");
    // servers and the database
    m.put("SERVER_UP", "a server is back: LAN heartbeats answered and its lease current");
    m.put("SERVER_SUSPECT", "a server's LAN heartbeats are lost but its disk pulse beats: nothing moves");
    m.put("SERVER_DOWN", "a server is down: LAN lost and no disk pulse, or its lease expired");
    m.put("SERVER_UNHEALTHY", "a server is alive but reports its uplink lost");
    m.put("SERVER_FENCED", "a server cannot renew its lease: its fence stops its apps");
    m.put("SERVER_ADDED", "an operator added a server to the cluster");
    m.put("SERVER_REMOVED", "an operator removed a server from the cluster");
    m.put("REPLICA_STALLED", "a server's database replica stopped applying; it starts nothing until repaired");
    m.put("REPLICA_DIVERGED", "a server's replica applied entries its log then truncated; it starts nothing and is rebuilt");
    m.put("REPLICA_REBUILT", "a server's replica was rebuilt from its peers");
    m.put("LEADER_STEP_DOWN", "an agent asked the Raft leader to step down: it counted entries that agent's log does not have");
    // operators and apps, through the API
    m.put("APP_ADDED", "an operator added an app");
    m.put("APP_CHANGED", "an operator replaced an app's definition");
    m.put("APP_REMOVED", "an operator asked to remove an app");
    m.put("APP_ATTRIBUTES", "an app's extra attributes changed");
    m.put("APP_REGISTERED", "a cluster-aware app registered itself (FIG. 6)");
    m.put("OPERATOR_UNLOAD", "an operator unloaded an app");
    m.put("OPERATOR_LOAD", "an operator loaded an app on its primary");
    m.put("OPERATOR_MOVE", "an operator asked to move an app");
    m.put("OPERATOR_APPROVE", "an operator approved a pending failback");
    m.put("OPERATOR_RESET", "an operator reset an app's failure counts");
    m.put("SERVER_DRAINED", "an operator drained a server: its apps move away one at a time, nothing new goes there");
    m.put("SERVER_RESUMED", "an operator resumed a drained server");
    m.put("MAINTENANCE_ON", "an operator put the cluster in maintenance: agents start, stop and move nothing");
    m.put("MAINTENANCE_OFF", "an operator ended the cluster's maintenance: the agents act again");
    m.put("APP_UNMANAGED", "an operator took an app out of the agents' hands");
    m.put("APP_MANAGED", "an operator gave an app back to the agents");
    m.put("SNAPSHOT_RESTORED", "an operator seeded the cluster from a snapshot of another");
    m.put("CONFIG_RELOADED", "an agent read its configuration file again (config reload, SIGHUP): what applied, what waits for its next start");
    m.put("FORMAT_RAISED", "every server reads a newer database and message format: the cluster writes it from now on");
    m.put("FORMAT_REFUSED", "an agent stopped: the cluster writes a format newer than it reads (upgrade it)");
    ALL = java.util.Collections.unmodifiableMap(m);
  }
}
