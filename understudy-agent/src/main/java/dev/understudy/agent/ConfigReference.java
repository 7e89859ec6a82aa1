package dev.understudy.agent;

import java.util.List;

/**
 * Every key of the agent's configuration file, its default and its meaning: the source of docs/CONFIGURATION.md.
 * {@code ConfigReferenceTest} keeps it complete (every field of {@link AgentConfig} has a row) and the document equal
 * to it.
 */
public final class ConfigReference {
  private ConfigReference() {}

  /** One key (a dotted path; a list's items as {@code peers[].id}). */
  public record Row(String key, String dflt, String meaning) {}

  public static final List<Row> ROWS = List.of(
      new Row("server", "required", "this server's id (1-64 of `A-Z a-z 0-9 . _ -`)"),
      new Row("address", "required", "address the agent binds (API, Raft, heartbeat) and apps get as `UNDERSTUDY_ADDRESS`"),
      new Row("dataDir", "required", "database replica, app logs, pid files, the incarnation counter"),
      new Row("cluster.name", "`understudy`", "names the Raft group; agents of different clusters never mix"),
      new Row("cluster.secret", "required, >= 16 chars", "HMAC key of LAN heartbeats and renewal requests"),
      new Row("cluster.token", "required", "API token (at least 16 characters) for every request that changes something, and for reads where they are not open"),
      new Row("cluster.readToken", "none", "a read-only API token (Prometheus, dashboards): every read, never a write"),
      new Row("cluster.openReads", "true on loopback, else false", "whether reads (status, apps, events, metrics, console data) need no token"),
      new Row("ports.api", "7700", "REST API, console and client API (per server: `peers[].apiPort`)"),
      new Row("ports.raft", "7701", "the database's Raft traffic (per server: `peers[].raftPort`)"),
      new Row("ports.heartbeat", "7702", "UDP heartbeats and renewal requests (per server: `peers[].heartbeatPort`)"),
      new Row("peers[].id", "required", "every server, this one included; the first 5 vote, the rest are non-voting listeners"),
      new Row("peers[].address", "required", "the server's address"),
      new Row("peers[].apiPort", "`ports.api`", "this server's API port, where it differs"),
      new Row("peers[].raftPort", "`ports.raft`", "this server's Raft port, where it differs"),
      new Row("peers[].heartbeatPort", "`ports.heartbeat`", "this server's heartbeat port, where it differs"),
      new Row("witness", "false", "vote and store the database, never host apps"),
      new Row("timing.profile", "`default`", "`default` (LAN), `fast` (quiet LAN, about half the failover time), `relaxed` (busy or virtualised hosts); the keys below override it"),
      new Row("timing.heartbeatInterval", "100ms", "LAN probe period"),
      new Row("timing.heartbeatTimeout", "500ms", "acks missing this long = LAN lost"),
      new Row("timing.lease", "800ms", "the server's lease: it runs apps only while it holds one"),
      new Row("timing.leaseRenew", "200ms", "renewal period"),
      new Row("timing.leaseMargin", "80ms", "the fence kills every app this long before the lease ends; an observer waits as long again after it"),
      new Row("timing.guardTimeout", "200ms", "an app is started only while this much is left before the fence's deadline"),
      new Row("timing.electionTimeoutMin", "150ms", "Raft election timeout, low end"),
      new Row("timing.electionTimeoutMax", "300ms", "Raft election timeout, high end"),
      new Row("timing.failbackHold", "2s", "the primary must be UP this long before a failback"),
      new Row("timing.restartLimit", "3", "failures of an app on one server before that server is passed over for it"),
      new Row("timing.restartWindow", "10m", "how long a failure counts"),
      new Row("timing.restartBackoff", "500ms", "wait before a retry on the same server, doubled per failure still counted"),
      new Row("database.snapshotEvery", "10000", "log entries between two snapshots of the cluster database; a snapshot purges the log but for its last snapshotEvery entries, so a replica up to that far behind catches up from the log, and one further behind installs the leader's snapshot"),
      new Row("timing.restartGrace", "20s", "an agent stopped on purpose (SIGTERM: an upgrade, a configuration change) leaves its apps running this long for the next start of the agent to adopt; its peers wait as long before taking them over, and give it nothing new meanwhile (it shows as RESTARTING)"),
      new Row("diskPulse.path", "none", "shared-storage heartbeat file (every server that mounts it beats in its own slot)"),
      new Row("diskPulse.interval", "100ms", "how often the slot is written and the others read"),
      new Row("diskPulse.timeout", "500ms", "a slot unchanged this long is STALE"),
      new Row("uplink.targets", "none", "`HOST:PORT` list this server must reach to be useful"),
      new Row("uplink.interval", "1s", "probe period"),
      new Row("uplink.timeout", "3s", "every target failing this long = uplink lost (the server reports itself UNHEALTHY)"),
      new Row("inventory.labels", "none", "labels this server declares (`label:NAME` requirements)"),
      new Row("inventory.cpus", "detected", "CPUs (`cpu:N` requirements)"),
      new Row("inventory.memory", "detected", "memory, e.g. `8G` (`memory:SIZE` requirements)"),
      new Row("notifications.webhook", "none", "URL every event is POSTed to as JSON (once per event cluster-wide)"),
      new Row("notifications.webhookTimeout", "2s", "per attempt"),
      new Row("notifications.webhookRetries", "3", "attempts after the first"),
      new Row("notifications.command", "none", "argv run for every event, with `UNDERSTUDY_EVENT_ID/KIND/TIME/SERVER/APP/MESSAGE` and the JSON on stdin"),
      new Row("notifications.kinds", "all", "only these event kinds (the README lists them; an unknown one is an error), e.g. `[FAILOVER, SERVER_DOWN, APP_FAILED, NO_QUALIFIED_BACKUP]`"),
      new Row("forwarding.mode", "`user`", "`user`: the agent relays clients of the cluster ports; `kernel`: nftables rewrites them to the host (root, nftables, IPv4)"),
      new Row("forwarding.maxConnectionsPerApp", "10000", "open connections per app"),
      new Row("forwarding.waitForHost", "10s", "how long a new connection waits while no server runs the app"),
      new Row("forwarding.idleTimeout", "10m", "idle connections are closed after"),
      new Row("testHooks", "false", "enables `POST /api/v1/debug/faults` (fault injection for tests)"),
      new Row("apps.user", "the agent's user", "the user apps run as when their `command.user` is unset (the agent must be root to switch; apps always get a clean environment)"),
      new Row("apps.group", "the user's group", "the group they run as"),
      new Row("apps.ocfRoot", "/usr/lib/ocf", "where the OCF resource agents are (`ocf:PROVIDER:TYPE` runs `OCF_ROOT/resource.d/PROVIDER/TYPE`)"),
      new Row("tls.ca", "required", "the cluster CA's certificate (PEM; a bundle of old and new CAs during a CA rotation): every Raft peer and client must present a certificate it signed"),
      new Row("tls.cert", "required", "this server's certificate (PEM, from `understudy tls issue`); a replaced file is used from the next connection on, no restart"),
      new Row("tls.key", "required", "this server's private key (PEM, PKCS#8 or EC/RSA; keep it 0600)"),
      new Row("tls.api", "auto", "`on`: the API and console are HTTPS with this server's certificate (clients trust the cluster CA: `UNDERSTUDY_CA`); `off`: plain HTTP; `auto`: on unless `address` is loopback. The same on every server"));

  /** The document, as docs/CONFIGURATION.md holds it. */
  public static String markdown() {
    StringBuilder b = new StringBuilder();
    b.append("# Configuration reference\n\n");
    b.append("<!-- generated from dev.understudy.agent.ConfigReference by ConfigReferenceTest; edit that, not this -->\n\n");
    b.append("The agent's file is YAML (`understudy agent --config FILE`). Unknown keys and bad values stop the agent with a\n");
    b.append("message naming the key. Durations are written `100ms`, `2s`, `10m`.\n\n");
    b.append("| key | default | meaning |\n|---|---|---|\n");
    for (Row r : ROWS) b.append("| `").append(r.key()).append("` | ").append(r.dflt()).append(" | ").append(r.meaning()).append(" |\n");
    b.append("\nRelations between timings are checked at start, each message printing both values: heartbeat timeout >= 2 x\n");
    b.append("interval; lease >= 3 x renew; lease >= 2 x election max; lease >= guard + margin + renew; margin >= 1% of lease\n");
    b.append("(docs/PROTOCOL.md says why). Every server counts a peer's lease by the length that peer holds it for, so servers\n");
    b.append("on different profiles can share a cluster.\n");
    return b.toString();
  }
}
