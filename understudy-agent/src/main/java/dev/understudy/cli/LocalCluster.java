package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.agent.AgentConfig;
import dev.understudy.tls.ClusterCa;
import dev.understudy.tls.Pem;
import dev.understudy.tls.TlsFiles;
import dev.understudy.run.ProcessGroups;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * N agent processes on 127.0.0.11, .12, ... (ids s1..sN) under one directory: how a user tries Understudy on one
 * machine, and how the tests drive real processes. State lives in files, so any CLI invocation can act on it.
 */
public final class LocalCluster {
  private final Path dir;
  private final Properties env = new Properties();

  private LocalCluster(Path dir) throws IOException {
    this.dir = dir.toAbsolutePath();
    Path f = this.dir.resolve("cluster.env");
    if (!Files.isRegularFile(f)) throw new CliException(2, "no local cluster in " + dir + " (run: understudy local up --dir " + dir + ")");
    try (var r = Files.newBufferedReader(f)) {
      env.load(r);
    }
  }

  public static LocalCluster open(Path dir) throws IOException { return new LocalCluster(dir); }

  /** Where one agent runs: its address and, for benchmarks across veth links, the network namespace it runs in. */
  public record Placement(String address, String netns) {}

  /** Agents s1..sN at the given places (the netns benchmark); otherwise as {@link #up(Path, int, int, Map, boolean, java.util.function.Consumer)}. */
  public static LocalCluster up(Path dir, List<Placement> places, int basePort, Map<String, Object> timing)
      throws IOException, InterruptedException {
    return up(dir, places, basePort, timing, false, false, Map.of(), false, null, null);
  }

  /** The same, every agent with these forwarding settings (kernel forwarding across namespaces, in a test). */
  public static LocalCluster up(Path dir, List<Placement> places, int basePort, Map<String, Object> timing,
                                AgentConfig.ForwardingConfig forwarding) throws IOException, InterruptedException {
    return up(dir, places, basePort, timing, false, false, Map.of(), false, null, forwarding);
  }

  /** Writes the configs of a new cluster (or reuses an existing one) and starts every agent. */
  public static LocalCluster up(Path dir, int servers, int basePort, Map<String, Object> timing, boolean hooks,
                                Consumer<String> progress) throws IOException, InterruptedException {
    return up(dir, servers, basePort, timing, hooks, false, progress);
  }

  /** With {@code diskPulse}, every agent beats in DIR/disk.pulse, standing in for a shared disk. */
  public static LocalCluster up(Path dir, int servers, int basePort, Map<String, Object> timing, boolean hooks,
                                boolean diskPulse, Consumer<String> progress) throws IOException, InterruptedException {
    return up(dir, servers, basePort, timing, hooks, diskPulse, Map.of(), progress);
  }

  /** {@code uplinks}: server id -> the HOST:PORT its uplink check probes (none = no uplink check). */
  public static LocalCluster up(Path dir, int servers, int basePort, Map<String, Object> timing, boolean hooks,
                                boolean diskPulse, Map<String, String> uplinks, Consumer<String> progress)
      throws IOException, InterruptedException {
    return up(dir, servers, basePort, timing, hooks, diskPulse, uplinks, false, progress);
  }

  /** {@code witnessLast}: the last server is a witness (votes, stores the database, hosts nothing). */
  public static LocalCluster up(Path dir, int servers, int basePort, Map<String, Object> timing, boolean hooks,
                                boolean diskPulse, Map<String, String> uplinks, boolean witnessLast,
                                Consumer<String> progress) throws IOException, InterruptedException {
    return up(dir, servers, basePort, timing, hooks, diskPulse, uplinks, witnessLast, progress, (id, c) -> c);
  }

  /** As above, each server's configuration changed by {@code tweak} (server id, config) before it is first written. */
  public static LocalCluster up(Path dir, int servers, int basePort, Map<String, Object> timing, boolean hooks,
                                boolean diskPulse, Map<String, String> uplinks, boolean witnessLast,
                                Consumer<String> progress, java.util.function.BiFunction<String, AgentConfig, AgentConfig> tweak)
      throws IOException, InterruptedException {
    if (servers < 1 || servers > 50) throw new CliException(2, "--servers must be 1-50");
    List<Placement> places = new ArrayList<>();
    for (int i = 1; i <= servers; i++) places.add(new Placement(address(i), null));
    return up(dir, places, basePort, timing, hooks, diskPulse, uplinks, witnessLast, progress, null, tweak);
  }

  private static LocalCluster up(Path dir, List<Placement> places, int basePort, Map<String, Object> timing, boolean hooks,
                                 boolean diskPulse, Map<String, String> uplinks, boolean witnessLast,
                                 Consumer<String> progress, AgentConfig.ForwardingConfig forwarding)
      throws IOException, InterruptedException {
    return up(dir, places, basePort, timing, hooks, diskPulse, uplinks, witnessLast, progress, forwarding, (id, c) -> c);
  }

  private static LocalCluster up(Path dir, List<Placement> places, int basePort, Map<String, Object> timing, boolean hooks,
                                 boolean diskPulse, Map<String, String> uplinks, boolean witnessLast,
                                 Consumer<String> progress, AgentConfig.ForwardingConfig forwarding,
                                 java.util.function.BiFunction<String, AgentConfig, AgentConfig> tweak)
      throws IOException, InterruptedException {
    int servers = places.size();
    Path abs = dir.toAbsolutePath();
    Files.createDirectories(abs);
    Path envFile = abs.resolve("cluster.env");
    if (!Files.isRegularFile(envFile)) {
      String token = random(16);
      List<AgentConfig.Peer> peers = new ArrayList<>();
      for (int i = 1; i <= servers; i++) peers.add(new AgentConfig.Peer("s" + i, places.get(i - 1).address(), null, null, null));
      AgentConfig.TimingConfig t = timing == null ? null
          : dev.understudy.store.Json.MAPPER.convertValue(timing, AgentConfig.TimingConfig.class);
      String secret = random(16);
      ClusterCa ca = ClusterCa.init(abs.resolve("tls"), "local");
      for (int i = 1; i <= servers; i++) {
        TlsFiles tls = ca.issue("s" + i, List.of(places.get(i - 1).address()), ClusterCa.SERVER_VALIDITY);
        AgentConfig c = new AgentConfig("s" + i, places.get(i - 1).address(), abs.resolve("s" + i).resolve("data").toString(),
            new AgentConfig.Cluster("local", secret, token), new AgentConfig.Ports(basePort, basePort + 1, basePort + 2),
            peers, witnessLast && i == servers ? Boolean.TRUE : null, t, diskPulse ? new AgentConfig.DiskPulseConfig(abs.resolve("disk.pulse").toString(), null, null) : null,
            uplinks.containsKey("s" + i) ? new AgentConfig.UplinkConfig(List.of(uplinks.get("s" + i)), "200ms", "1s") : null,
            null, null, forwarding, hooks ? Boolean.TRUE : null, tlsConfig(tls));
        c = tweak.apply("s" + i, c);
        c.validate();
        c.write(abs.resolve("s" + i).resolve("agent.yaml"));
      }
      StringBuilder netns = new StringBuilder();
      for (int i = 1; i <= servers; i++) {
        if (places.get(i - 1).netns() != null) netns.append("NETNS_s").append(i).append('=').append(places.get(i - 1).netns()).append('\n');
      }
      Pem.writePrivate(envFile, "UNDERSTUDY_AGENT=http://" + places.get(0).address() + ":" + basePort + "\nUNDERSTUDY_TOKEN=" + token
          + "\nUNDERSTUDY_CA=" + ca.certificateFile() + "\nSERVERS=" + servers + "\n" + netns);
    }
    LocalCluster lc = new LocalCluster(abs);
    try {
      for (String id : lc.ids()) if (!lc.running(id)) lc.start(id);
      lc.awaitReady(progress, 60_000);
    } catch (IOException | RuntimeException e) {
      lc.down(); // never leave agents running behind a failed start
      throw e;
    }
    return lc;
  }

  private static AgentConfig.TlsConfig tlsConfig(TlsFiles f) {
    return new AgentConfig.TlsConfig(f.ca().toString(), f.cert().toString(), f.key().toString());
  }

  static String address(int i) { return "127.0.0." + (10 + i); }

  private static String random(int bytes) {
    byte[] b = new byte[bytes];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  public List<String> ids() {
    List<String> ids = new ArrayList<>();
    int n = Integer.parseInt(env.getProperty("SERVERS"));
    for (int i = 1; i <= n; i++) ids.add("s" + i);
    return ids;
  }

  public String token() { return env.getProperty("UNDERSTUDY_TOKEN"); }

  public Path dir() { return dir; }

  public AgentConfig config(String id) { return AgentConfig.load(serverDir(id).resolve("agent.yaml")); }

  public String apiUrl(String id) {
    AgentConfig c = config(id);
    return (c.apiTls() ? "https://" : "http://") + c.address() + ":" + c.apiPort();
  }

  /** The cluster CA's certificate file, which a client of an HTTPS agent trusts. */
  public String caFile() { return env.getProperty("UNDERSTUDY_CA"); }

  public Client client(String id) { return new Client(apiUrl(id), token(), caFile()); }

  /**
   * Sets {@code tls.api} of every agent (they read it when they start): {@code on} serves the API over HTTPS on
   * loopback too, as a cluster off loopback does by default.
   */
  public void apiTls(String mode) throws IOException {
    for (String id : ids()) {
      AgentConfig c = config(id);
      AgentConfig.TlsConfig t = c.tls();
      c.withTls(new AgentConfig.TlsConfig(t.ca(), t.cert(), t.key(), mode)).write(serverDir(id).resolve("agent.yaml"));
    }
    writeEnv();
  }

  private void writeEnv() throws IOException {
    StringBuilder b = new StringBuilder();
    for (String k : new java.util.TreeSet<>(env.stringPropertyNames())) b.append(k).append('=').append(env.getProperty(k)).append('\n');
    Pem.writePrivate(dir.resolve("cluster.env"), b.toString());
  }

  private Path serverDir(String id) {
    if (!ids().contains(id)) throw new CliException(2, "unknown server " + id + "; this local cluster has " + ids());
    return dir.resolve(id);
  }

  public boolean running(String id) {
    return pid(id).map(ProcessGroups::alive).orElse(false);
  }

  private java.util.Optional<Long> pid(String id) {
    try {
      Path f = serverDir(id).resolve("agent.pid");
      return Files.isRegularFile(f) ? java.util.Optional.of(Long.parseLong(Files.readString(f).trim())) : java.util.Optional.empty();
    } catch (IOException | NumberFormatException e) {
      return java.util.Optional.empty();
    }
  }

  /**
   * The JVM options of an agent: the same as {@code bin/understudy agent} uses, and like it replaced as a whole by
   * {@code UNDERSTUDY_JAVA_OPTS} when that is set.
   */
  public static List<String> agentJvmOptions() {
    String custom = System.getenv("UNDERSTUDY_JAVA_OPTS");
    if (custom != null && !custom.isBlank()) return List.of(custom.trim().split("\\s+"));
    return AGENT_JVM_OPTIONS;
  }

  /** Removes a scratch directory and everything in it, as far as it can (a temp dir: the OS cleans up the rest). */
  public static void deleteTree(Path dir) {
    try (var s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp dir; the OS cleans it eventually
    }
  }

  /** Keep in step with bin/understudy. */
  static final List<String> AGENT_JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-Xms32m", "-Xmx256m",
      "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-XX:+ExitOnOutOfMemoryError");

  /**
   * What an agent runs: this build, or the build whose classpath its server directory's {@code classpath} file names
   * (a rolling upgrade tried on one machine: each server moves to the new build when the file goes and it restarts).
   */
  private static String classpath(Path serverDir) throws IOException {
    Path f = serverDir.resolve("classpath");
    return Files.isRegularFile(f) ? Files.readString(f).trim() : System.getProperty("java.class.path");
  }

  /** Starts the agent process of {@code id}, detached in its own session, logging to its agent.log. */
  public void start(String id) throws IOException {
    if (running(id)) throw new CliException(1, id + " is already running (pid " + pid(id).orElse(0L) + ")");
    Path sd = serverDir(id);
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>();
    String netns = env.getProperty("NETNS_" + id);
    if (netns != null) cmd.addAll(List.of("ip", "netns", "exec", netns));
    cmd.addAll(List.of("setsid", java));
    var launch = ClassDataArchive.forClasspath(classpath(sd));
    cmd.addAll(agentJvmOptions());
    cmd.addAll(launch.options());
    cmd.addAll(List.of("-cp", launch.classpath(),
        Main.class.getName(), "agent", "--config", sd.resolve("agent.yaml").toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(sd.resolve("agent.log").toFile()));
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process p = pb.start();
    Files.writeString(sd.resolve("agent.pid"), String.valueOf(p.pid()));
  }

  /** SIGKILL of the agent and of every app it runs: a server dying. */
  public void kill(String id) throws IOException {
    pid(id).ifPresent(pid -> signal(pid, "KILL"));
    killApps(id);
  }

  private void killApps(String id) throws IOException {
    Path run = serverDir(id).resolve("data").resolve("run");
    if (!Files.isDirectory(run)) return;
    try (var files = Files.list(run)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".pid")).toList()) {
        try {
          ProcessGroups.killGroup(Long.parseLong(Files.readString(f).trim().split(" ")[0]), "KILL");
        } catch (NumberFormatException | IOException ignored) {
          // a half-written pid file: its guard dies with the agent anyway
        }
      }
    }
  }

  /** SIGSTOP / SIGCONT of the agent alone (its apps keep running until its fence kills them at the lease deadline). */
  public void signalAgent(String id, String signal) {
    pid(id).ifPresent(pid -> signal(pid, signal));
  }

  private static void signal(long pid, String sig) {
    try {
      new ProcessBuilder("kill", "-" + sig, String.valueOf(pid)).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    } catch (IOException e) {
      throw new CliException(1, "kill failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Graceful stop of every agent (each stops its apps), then SIGKILL of whatever is left. */
  public void down() throws IOException, InterruptedException {
    for (String id : ids()) pid(id).ifPresent(pid -> signal(pid, "CONT"));
    for (String id : ids()) pid(id).ifPresent(pid -> signal(pid, "TERM"));
    long deadline = System.currentTimeMillis() + 20_000;
    while (System.currentTimeMillis() < deadline && ids().stream().anyMatch(this::running)) Thread.sleep(100);
    for (String id : ids()) {
      if (running(id)) kill(id);
      else killApps(id);
      killHeldFence(id);
      Files.deleteIfExists(serverDir(id).resolve("agent.pid"));
    }
  }

  /** A stopped agent leaves its fence guarding its apps for its next start (a restart); the cluster is going down. */
  private void killHeldFence(String id) throws IOException {
    Path f = serverDir(id).resolve("data").resolve("fence.pid");
    if (!Files.exists(f)) return;
    ProcessGroups.Recorded r = ProcessGroups.readPidFile(f);
    if (r.sameProcessRuns()) ProcessGroups.killGroup(r.pid(), "KILL");
  }

  /** Waits until there is a leader and every running agent holds its lease and has registered. */
  public void awaitReady(Consumer<String> progress, long timeoutMs) throws InterruptedException {
    long t0 = System.currentTimeMillis();
    String last = "";
    while (System.currentTimeMillis() - t0 < timeoutMs) {
      String state = readiness();
      if (state == null) return;
      if (!state.equals(last) && progress != null) progress.accept(state);
      last = state;
      Thread.sleep(200);
    }
    throw new CliException(1, "the local cluster did not become ready in " + timeoutMs / 1000 + " s (" + last
        + "); replicas: " + replicas() + "; see " + dir + "/s*/agent.log");
  }

  /** Each running agent's Raft replica in one line: what a formation that never became ready needs explained. */
  private String replicas() {
    List<String> parts = new ArrayList<>();
    for (String id : ids()) {
      if (!running(id)) {
        parts.add(id + " not running");
        continue;
      }
      try {
        JsonNode r = client(id).get("/api/v1/cluster").path("replica");
        parts.add(id + " " + r.path("role").asText() + " term " + r.path("term").asText() + " last "
            + r.path("lastIndex").asText() + " commit " + r.path("commitIndex").asText() + " applied "
            + r.path("appliedIndex").asText() + " own " + r.path("ownWriteIndex").asText()
            + (r.has("followerMatchIndex") ? " match " + r.path("followerMatchIndex") : "") + " first term "
            + r.path("firstTerm").asText());
      } catch (CliException e) {
        parts.add(id + " not answering: " + e.getMessage());
      }
    }
    return String.join("; ", parts);
  }

  /** null when ready, else what we are waiting for. */
  private String readiness() {
    for (String id : ids()) {
      if (!running(id)) continue;
      try {
        String notReady = WaitReady.state(client(id).get("/healthz"));
        if (notReady != null) return "waiting for " + id + ": " + notReady;
        JsonNode s = client(id).get("/api/v1/status");
        for (JsonNode sv : s.path("servers")) {
          if (running(sv.path("id").asText()) && !sv.has("inventory")) return "waiting for " + sv.path("id").asText() + " to register";
        }
      } catch (CliException e) {
        return "waiting for " + id + " to answer";
      }
    }
    return null;
  }

  /**
   * Adds a server to the running local cluster: writes its config (every member, itself last), starts its agent,
   * then asks the cluster to add it. Returns its id.
   */
  public String addServer() throws IOException, InterruptedException {
    List<String> ids = ids();
    String id = "s" + (ids.size() + 1);
    AgentConfig base = config(ids.get(0));
    List<AgentConfig.Peer> peers = new ArrayList<>(base.peers());
    int i = ids.size() + 1;
    peers.add(new AgentConfig.Peer(id, address(i), null, null, null));
    AgentConfig c = new AgentConfig(id, address(i), dir.resolve(id).resolve("data").toString(), base.cluster(), base.ports(),
        peers, null, base.timing(), base.diskPulse(), null, null, null, base.forwarding(), base.testHooks(),
        tlsConfig(ClusterCa.open(dir.resolve("tls")).issue(id, List.of(address(i)), ClusterCa.SERVER_VALIDITY)));
    c.validate();
    c.write(dir.resolve(id).resolve("agent.yaml"));
    env.setProperty("SERVERS", String.valueOf(i));
    writeEnv();
    start(id);
    client(ids.get(0)).post("/api/v1/servers", Map.of("id", id, "address", address(i), "apiPort", base.apiPort(),
        "raftPort", base.raftPort(), "heartbeatPort", base.heartbeatPort()));
    return id;
  }

  public Map<String, String> urls() {
    Map<String, String> m = new LinkedHashMap<>();
    for (String id : ids()) m.put(id, apiUrl(id));
    return m;
  }
}
