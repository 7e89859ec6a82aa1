package dev.understudy.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.understudy.model.AppValidator;
import dev.understudy.model.Sizes;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * An agent's configuration file (YAML). Unknown keys and bad values are errors that name the key. Every timing
 * relation the failover protocol relies on is checked in {@link Timing#validate()}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AgentConfig(
    String server,
    String address,
    String dataDir,
    Cluster cluster,
    Ports ports,
    List<Peer> peers,
    Boolean witness,
    TimingConfig timing,
    DiskPulseConfig diskPulse,
    UplinkConfig uplink,
    InventoryConfig inventory,
    NotifyConfig notifications,
    ForwardingConfig forwarding,
    Boolean testHooks,
    TlsConfig tls,
    AppsConfig apps,
    DatabaseConfig database) {

  public AgentConfig(String server, String address, String dataDir, Cluster cluster, Ports ports, List<Peer> peers,
                     Boolean witness, TimingConfig timing, DiskPulseConfig diskPulse, UplinkConfig uplink,
                     InventoryConfig inventory, NotifyConfig notifications, ForwardingConfig forwarding, Boolean testHooks,
                     TlsConfig tls, AppsConfig apps) {
    this(server, address, dataDir, cluster, ports, peers, witness, timing, diskPulse, uplink, inventory, notifications,
        forwarding, testHooks, tls, apps, null);
  }

  /** The cluster database (its Raft log): {@code snapshotEvery} entries between two snapshots, after which the log is purged. */
  public record DatabaseConfig(Long snapshotEvery) {}

  /** Log entries between two snapshots of the database (a replica further behind installs the leader's snapshot). */
  public long snapshotEvery() { return database != null && database.snapshotEvery() != null ? database.snapshotEvery() : 10_000; }

  public AgentConfig(String server, String address, String dataDir, Cluster cluster, Ports ports, List<Peer> peers,
                     Boolean witness, TimingConfig timing, DiskPulseConfig diskPulse, UplinkConfig uplink,
                     InventoryConfig inventory, NotifyConfig notifications, ForwardingConfig forwarding, Boolean testHooks,
                     TlsConfig tls) {
    this(server, address, dataDir, cluster, ports, peers, witness, timing, diskPulse, uplink, inventory, notifications,
        forwarding, testHooks, tls, null);
  }

  /** The account this server runs apps as when an app names none (names or numbers); unset: the agent's own. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record AppsConfig(String user, String group, String ocfRoot) {
    public AppsConfig(String user, String group) { this(user, group, null); }
  }

  /** The same configuration with these sections that a reload applies at run time (see {@link ConfigReload}). */
  public AgentConfig withLive(NotifyConfig n, InventoryConfig i, AppsConfig a) {
    return new AgentConfig(server, address, dataDir, cluster, ports, peers, witness, timing, diskPulse, uplink, i,
        n, forwarding, testHooks, tls, a, database);
  }

  /** The same configuration with these timing settings. */
  public AgentConfig withTiming(TimingConfig t) {
    return new AgentConfig(server, address, dataDir, cluster, ports, peers, witness, t, diskPulse, uplink, inventory,
        notifications, forwarding, testHooks, tls, apps, database);
  }

  /** The same configuration with these database settings. */
  public AgentConfig withDatabase(DatabaseConfig d) {
    return new AgentConfig(server, address, dataDir, cluster, ports, peers, witness, timing, diskPulse, uplink, inventory,
        notifications, forwarding, testHooks, tls, apps, d);
  }

  /** The same configuration with these TLS files. */
  public AgentConfig withTls(TlsConfig files) {
    return new AgentConfig(server, address, dataDir, cluster, ports, peers, witness, timing, diskPulse, uplink, inventory,
        notifications, forwarding, testHooks, files, apps, database);
  }

  /**
   * This server's TLS files (PEM): {@code ca} the cluster CA bundle it trusts, {@code cert} and {@code key} its own
   * certificate and private key, made by {@code understudy tls issue}. Every Raft connection is mutual TLS with them.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record TlsConfig(String ca, String cert, String key, String api) {
    public TlsConfig(String ca, String cert, String key) { this(ca, cert, key, null); }

    public dev.understudy.tls.TlsFiles files(Path base) {
      return new dev.understudy.tls.TlsFiles(base.resolve(ca), base.resolve(cert), base.resolve(key));
    }
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Cluster(String name, String secret, String token, Boolean openReads, String readToken) {
    public Cluster(String name, String secret, String token) { this(name, secret, token, null, null); }

    public Cluster(String name, String secret, String token, Boolean openReads) { this(name, secret, token, openReads, null); }
  }

  public record Ports(Integer api, Integer raft, Integer heartbeat) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Peer(String id, String address, Integer apiPort, Integer raftPort, Integer heartbeatPort) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record TimingConfig(String profile, String heartbeatInterval, String heartbeatTimeout, String lease,
                             String leaseRenew, String leaseMargin, String guardTimeout, String electionTimeoutMin,
                             String electionTimeoutMax, String failbackHold, Integer restartLimit,
                             String restartWindow, String restartBackoff, String restartGrace) {}

  public record DiskPulseConfig(String path, String interval, String timeout) {}

  public record UplinkConfig(List<String> targets, String interval, String timeout) {}

  public record InventoryConfig(List<String> labels, Integer cpus, String memory) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record NotifyConfig(String webhook, String webhookTimeout, Integer webhookRetries, List<String> command,
                             List<String> kinds) {}

  /**
   * Client forwarding on the cluster ports. {@code mode}: {@code user} (default: the agent relays every connection) or
   * {@code kernel} (nftables rewrites connections to the host while it runs the app; needs root and nft, IPv4).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record ForwardingConfig(String mode, Integer maxConnectionsPerApp, String waitForHost, String idleTimeout) {}

  public static final int DEFAULT_API_PORT = 7700;
  public static final int DEFAULT_RAFT_PORT = 7701;
  public static final int DEFAULT_HEARTBEAT_PORT = 7702;

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

  public static AgentConfig load(Path file) {
    if (!Files.isRegularFile(file)) throw new ConfigException("config file " + file + " does not exist");
    try {
      AgentConfig c = YAML.readValue(file.toFile(), AgentConfig.class);
      if (c == null) throw new ConfigException("config file " + file + " is empty");
      c.validate();
      return c;
    } catch (UnrecognizedPropertyException e) {
      throw new ConfigException("config key " + path(e) + " is unknown; known keys here: "
          + e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", ")));
    } catch (MismatchedInputException e) {
      throw new ConfigException("config key " + path(e) + ": wrong type (" + e.getOriginalMessage().split("\n")[0] + ")");
    } catch (IOException e) {
      throw new ConfigException("config file " + file + " is not valid YAML: " + e.getMessage().split("\n")[0]);
    }
  }

  private static String path(MismatchedInputException e) {
    return e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
        .collect(Collectors.joining(".")).replace(".[", "[");
  }

  /** Writes the file readable by its owner only: it holds the cluster's secret and token. */
  public void write(Path file) throws IOException {
    dev.understudy.tls.Pem.writePrivate(file, YAML.writeValueAsString(this));
  }

  public boolean isWitness() { return Boolean.TRUE.equals(witness); }

  /** Whether reads need no token: {@code cluster.openReads}, by default only on a loopback address. */
  public boolean readsOpen() {
    if (cluster != null && cluster.openReads() != null) return cluster.openReads();
    try {
      return InetAddress.getByName(address).isLoopbackAddress();
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Whether this agent's API and console are HTTPS (with its cluster certificate): {@code tls.api} {@code on} or
   * {@code off}, by default ({@code auto}) on unless the address is loopback, where only this machine can listen in.
   */
  public boolean apiTls() { return apiTls(address); }

  /** The same rule for a peer's address: every agent of a cluster has the same {@code tls.api}. */
  public boolean apiTls(String peerAddress) {
    String mode = tls == null || tls.api() == null ? "auto" : tls.api();
    if (!mode.equals("auto")) return mode.equals("on");
    try {
      return !InetAddress.getByName(peerAddress).isLoopbackAddress();
    } catch (IOException e) {
      return true;
    }
  }

  /** The base URL of a peer's API. */
  public String apiUrl(Peer p) { return (apiTls(p.address()) ? "https://" : "http://") + p.address() + ":" + apiPort(p); }

  public boolean hooksEnabled() { return Boolean.TRUE.equals(testHooks); }

  public int apiPort() { return ports != null && ports.api() != null ? ports.api() : DEFAULT_API_PORT; }

  public int raftPort() { return ports != null && ports.raft() != null ? ports.raft() : DEFAULT_RAFT_PORT; }

  public int heartbeatPort() { return ports != null && ports.heartbeat() != null ? ports.heartbeat() : DEFAULT_HEARTBEAT_PORT; }

  public int apiPort(Peer p) { return p.apiPort() != null ? p.apiPort() : apiPort(); }

  public int raftPort(Peer p) { return p.raftPort() != null ? p.raftPort() : raftPort(); }

  public int heartbeatPort(Peer p) { return p.heartbeatPort() != null ? p.heartbeatPort() : heartbeatPort(); }

  public Timing timingValues() { return Timing.from(timing); }

  /** Whether the kernel forwards (nftables) as well as the agent. */
  public boolean kernelForwarding() { return forwarding != null && "kernel".equals(forwarding.mode()); }

  public dev.understudy.route.Forwarder.Limits forwardingLimits() {
    var d = dev.understudy.route.Forwarder.Limits.defaults();
    if (forwarding == null) return d;
    return new dev.understudy.route.Forwarder.Limits(
        forwarding.maxConnectionsPerApp() != null ? forwarding.maxConnectionsPerApp() : d.maxConnectionsPerApp(),
        forwarding.waitForHost() != null ? Durations.parse("forwarding.waitForHost", forwarding.waitForHost()) : d.waitForHost(),
        forwarding.idleTimeout() != null ? Durations.parse("forwarding.idleTimeout", forwarding.idleTimeout()) : d.idleTimeout());
  }

  public String clusterName() { return cluster != null && cluster.name() != null ? cluster.name() : "understudy"; }

  public void validate() {
    if (server == null || !AppValidator.SERVER_ID.matcher(server).matches()) {
      throw new ConfigException("server", "must be a server id of 1-64 of A-Z a-z 0-9 . _ - (got " + server + ")");
    }
    if (address == null || address.isBlank()) throw new ConfigException("address", "is required (the address this agent binds)");
    if (dataDir == null || dataDir.isBlank()) throw new ConfigException("dataDir", "is required");
    if (cluster == null || cluster.secret() == null || cluster.secret().length() < 16) {
      throw new ConfigException("cluster.secret", "is required, at least 16 characters (it authenticates heartbeats)");
    }
    if (tls == null || tls.ca() == null || tls.cert() == null || tls.key() == null) {
      throw new ConfigException("tls", "needs ca, cert and key: the cluster CA's certificate and this server's certificate"
          + " and key, which every Raft connection is checked against (make them with: understudy tls init --dir DIR;"
          + " understudy tls issue " + server + " --address " + address + " --dir DIR)");
    }
    if (tls.api() != null && !Set.of("auto", "on", "off").contains(tls.api())) {
      throw new ConfigException("tls.api", "must be auto, on or off (got " + tls.api() + ")");
    }
    if (cluster.readToken() != null && (cluster.readToken().length() < 16 || cluster.readToken().equals(cluster.token()))) {
      throw new ConfigException("cluster.readToken", "must be at least 16 characters and differ from cluster.token");
    }
    boolean loopback;
    try {
      loopback = InetAddress.getByName(address).isLoopbackAddress();
    } catch (IOException e) {
      throw new ConfigException("address", "\"" + address + "\" does not resolve");
    }
    if (cluster.token() == null || cluster.token().length() < 16) {
      // on loopback too: without one, any web page the server's browser opens could POST to the API (a form sends
      // text/plain without a preflight), and anything on the machine could change the cluster
      throw new ConfigException("cluster.token", "is required (at least 16 characters), on a loopback address ("
          + address + ") too: it is what every write to the cluster is checked against");
    }
    for (String[] kv : new String[][] {{"ports.api", String.valueOf(apiPort())}, {"ports.raft", String.valueOf(raftPort())},
        {"ports.heartbeat", String.valueOf(heartbeatPort())}}) {
      int p = Integer.parseInt(kv[1]);
      if (p < 1 || p > 65535) throw new ConfigException(kv[0], "must be 1-65535 (got " + p + ")");
    }
    if (peers == null || peers.isEmpty()) throw new ConfigException("peers", "must list every server of the cluster, this one included");
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < peers.size(); i++) {
      Peer p = peers.get(i);
      if (p == null || p.id() == null || !AppValidator.SERVER_ID.matcher(p.id()).matches()) {
        throw new ConfigException("peers[" + i + "].id", "must be a server id");
      }
      if (p.address() == null) throw new ConfigException("peers[" + i + "].address", "is required");
      if (!ids.add(p.id())) throw new ConfigException("peers[" + i + "].id", p.id() + " is listed twice");
    }
    if (!ids.contains(server)) throw new ConfigException("peers", "must include this server " + server);
    timingValues().validate();
    if (diskPulse != null) {
      if (diskPulse.path() == null) throw new ConfigException("diskPulse.path", "is required when diskPulse is set");
      var iv = Durations.parse("diskPulse.interval", or(diskPulse.interval(), "100ms"));
      var to = Durations.parse("diskPulse.timeout", or(diskPulse.timeout(), "500ms"));
      if (to.compareTo(iv.multipliedBy(2)) < 0) {
        throw new ConfigException("diskPulse.timeout", "(" + Durations.format(to) + ") must be at least twice diskPulse.interval ("
            + Durations.format(iv) + ")");
      }
    }
    if (uplink != null) {
      var iv = Durations.parse("uplink.interval", or(uplink.interval(), "1s"));
      var to = Durations.parse("uplink.timeout", or(uplink.timeout(), "3s"));
      if (to.compareTo(iv.multipliedBy(2)) < 0) {
        throw new ConfigException("uplink.timeout", "(" + Durations.format(to) + ") must be at least twice uplink.interval ("
            + Durations.format(iv) + ")");
      }
      for (String t : uplink.targets() == null ? List.<String>of() : uplink.targets()) {
        if (!t.matches("[^:\\s]+:\\d{1,5}")) throw new ConfigException("uplink.targets", "\"" + t + "\" must be HOST:PORT");
      }
    }
    if (notifications != null) {
      if (notifications.webhook() != null && !notifications.webhook().matches("https?://.+")) {
        throw new ConfigException("notifications.webhook", "must be an http:// or https:// URL (got " + notifications.webhook() + ")");
      }
      Durations.parse("notifications.webhookTimeout", or(notifications.webhookTimeout(), "2s"));
      if (notifications.kinds() != null) {
        for (String k : notifications.kinds()) {
          if (!dev.understudy.model.EventKinds.ALL.containsKey(k)) {
            throw new ConfigException("notifications.kinds", "has no event kind " + k + " (a misspelt kind filters out"
                + " everything); the kinds are " + dev.understudy.model.EventKinds.ALL.keySet());
          }
        }
      }
      if (notifications.webhookRetries() != null && (notifications.webhookRetries() < 0 || notifications.webhookRetries() > 10)) {
        throw new ConfigException("notifications.webhookRetries", "must be 0-10");
      }
    }
    if (forwarding != null) validateForwarding();
    if (snapshotEvery() < 100 || snapshotEvery() > 10_000_000) {
      throw new ConfigException("database.snapshotEvery", "must be 100-10000000 log entries (got " + snapshotEvery() + ")");
    }
    if (apps != null) {
      if (apps.user() != null && !AppValidator.ACCOUNT.matcher(apps.user()).matches()) {
        throw new ConfigException("apps.user", "must be a user name or number (got " + apps.user() + ")");
      }
      if (apps.group() != null && !AppValidator.ACCOUNT.matcher(apps.group()).matches()) {
        throw new ConfigException("apps.group", "must be a group name or number (got " + apps.group() + ")");
      }
      if (apps.group() != null && apps.user() == null) throw new ConfigException("apps.group", "needs apps.user");
      if (apps.ocfRoot() != null && !AppValidator.isPath(apps.ocfRoot())) throw new ConfigException("apps.ocfRoot", "must be an absolute path");
    }
    if (inventory != null && inventory.memory() != null) {
      try {
        Sizes.parseBytes(inventory.memory());
      } catch (IllegalArgumentException e) {
        throw new ConfigException("inventory.memory", e.getMessage());
      }
    }
  }

  private void validateForwarding() {
    String mode = or(forwarding.mode(), "user");
    if (!mode.equals("user") && !mode.equals("kernel")) {
      throw new ConfigException("forwarding.mode", "must be user or kernel (got " + mode + ")");
    }
    if (mode.equals("kernel")) {
      String why = dev.understudy.route.KernelRoutes.unsupported(address);
      if (why != null) throw new ConfigException("forwarding.mode", "kernel " + why);
    }
    Integer max = forwarding.maxConnectionsPerApp();
    if (max != null && (max < 1 || max > 1_000_000)) {
      throw new ConfigException("forwarding.maxConnectionsPerApp", "must be 1-1000000 (got " + max + ")");
    }
    var limits = forwardingLimits();
    if (limits.waitForHost().compareTo(java.time.Duration.ofMinutes(10)) > 0) {
      throw new ConfigException("forwarding.waitForHost", "must be at most 10m (got " + Durations.format(limits.waitForHost()) + ")");
    }
    if (limits.idleTimeout().compareTo(java.time.Duration.ofSeconds(1)) < 0) {
      throw new ConfigException("forwarding.idleTimeout", "must be at least 1s (got " + Durations.format(limits.idleTimeout()) + ")");
    }
  }

  static String or(String v, String d) { return v == null ? d : v; }
}
