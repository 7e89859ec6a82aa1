package dev.understudy.route;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kernel forwarding ({@code forwarding.mode: kernel}): while an app has a host, new connections to its cluster port
 * are rewritten by nftables (DNAT) to the host's address and app port, so their bytes never pass through the agent.
 * Everything else still reaches the {@link Forwarder}'s listener on the cluster port, which is why this is only a fast
 * path: while no server hosts the app, connections are not rewritten and wait in user space. The kernel counts every
 * open connection of a cluster port, whichever way it is forwarded, and resets new ones over the app's limit.
 *
 * <p>The rules live in a table of this agent's own, flagged {@code owner}: the kernel removes it when the {@code nft
 * -i} process that made it exits, which it does when this JVM dies in any way (its stdin closes). An agent killed with
 * kill -9 therefore leaves no rule behind that would send clients to a host that no longer runs the app.
 *
 * <p>A connection whose rewritten destination is no longer the app's current host is reset at its next packet (a
 * guard rule compares the connection's tracked destination with the current routes): connections to a host that died
 * are closed, not left hanging. Unlike in user space, a client that only waits to read is told at its next send or
 * keep-alive probe, not at once. Connections idle for the idle timeout are forgotten by conntrack; the client's next
 * packet then looks like a new connection that does not start with a SYN, and is reset.
 *
 * <p>Clients on other machines are rewritten too only where {@code net.ipv4.ip_forward} is on (the kernel must route
 * their packets on to another server, and the source is rewritten to this agent's address so replies come back
 * through it); otherwise only this machine's own clients take the fast path and the others go through user space.
 */
public final class KernelRoutes implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KernelRoutes.class);
  private static final long REPLY_TIMEOUT_MS = 3000;
  /**
   * Marks a connection to refuse, from the NAT rule that decides it (where no reset can be sent) to the filter rule
   * that resets it: one over the app's limit, or one conntrack took up in mid-stream (after it forgot an idle
   * connection), which must not reach the host again as if it were still open.
   */
  static final String REFUSE_MARK = "0x55530001";

  private final String table;
  private final String address;
  private final Process nft;
  private final Writer commands;
  private final LinkedBlockingQueue<String> output = new LinkedBlockingQueue<>();
  private final AtomicLong errors = new AtomicLong();
  private final boolean remoteClients;
  private volatile boolean idleTimeout;
  private long syncs;
  private final java.util.concurrent.atomic.AtomicReference<List<Forwarder.Route>> pending = new java.util.concurrent.atomic.AtomicReference<>();
  private final java.util.concurrent.Semaphore wake = new java.util.concurrent.Semaphore(0);
  private final AtomicLong applied = new AtomicLong();
  private final Thread applier = new Thread(this::applyLoop, "kernel-routes");
  private volatile boolean closed;
  private Map<Integer, InetSocketAddress> installed = Map.of();
  private List<Integer> installedPorts = List.of();

  private KernelRoutes(String address, Process nft, boolean remoteClients) {
    this.table = tableName(address);
    this.address = address;
    this.nft = nft;
    this.commands = new OutputStreamWriter(nft.getOutputStream(), StandardCharsets.UTF_8);
    this.remoteClients = remoteClients;
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(nft.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) output.add(line);
      } catch (IOException e) {
        // the process ended
      }
    }, "nft-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /** The nft command: on PATH, or where Debian puts it (a service's PATH may lack the sbin directories). */
  public static java.util.Optional<String> nft() {
    return dev.understudy.run.ProcessGroups.locate("nft", "/usr/sbin", "/sbin");
  }

  /** One table per agent address, so that agents sharing a machine never touch each other's rules. */
  static String tableName(String address) { return "understudy_" + address.replace('.', '_'); }

  /** Why kernel forwarding cannot serve this address (not IPv4), or null when it can. */
  public static String unsupported(String address) {
    try {
      return InetAddress.getByName(address) instanceof Inet4Address ? null : "needs an IPv4 address (got " + address + ")";
    } catch (IOException e) {
      return "cannot resolve " + address + ": " + e.getMessage();
    }
  }

  /**
   * Creates this agent's table (replacing one a previous run of the same agent left) and returns the routes that
   * maintain it. Fails with nft's own message when nftables cannot be used here (not root, no nft, no NAT support).
   */
  public static KernelRoutes open(String address, Forwarder.Limits limits) throws IOException {
    String why = unsupported(address);
    if (why != null) throw new IOException("kernel forwarding " + why);
    String nftPath = nft().orElseThrow(() -> new IOException("kernel forwarding needs nftables' nft command (not on PATH,"
        + " nor in /usr/sbin or /sbin): apt-get install nftables"));
    Process p = new ProcessBuilder(nftPath, "-i").redirectErrorStream(true).start();
    KernelRoutes k = new KernelRoutes(address, p, ipForwarding());
    try {
      List<String> failed = k.send(k.setup(limits));
      if (!failed.isEmpty()) throw new IOException("kernel forwarding: nftables refused the rules: " + failed.get(0));
      List<String> idle = k.send(k.idleTimeoutRules(limits));
      k.idleTimeout = idle.isEmpty();
      if (!k.idleTimeout) {
        // an idle timeout needs conntrack timeout policies (nfnetlink_cttimeout); forwarding works without them
        log.warn("kernel forwarding: the kernel does not time out idle connections here ({}); connections through"
            + " user space still do", idle.get(0));
      }
      if (!k.remoteClients) {
        log.warn("kernel forwarding: net.ipv4.ip_forward is off, so only this machine's own clients are forwarded by"
            + " the kernel; clients on other machines go through user space (sysctl -w net.ipv4.ip_forward=1 to"
            + " change it)");
      }
      log.info("kernel forwarding on {} (nftables table ip {})", address, k.table);
      k.applier.setDaemon(true);
      k.applier.start();
      return k;
    } catch (IOException | RuntimeException e) {
      p.destroyForcibly();
      throw e;
    }
  }

  private static boolean ipForwarding() {
    try {
      return Files.readString(Path.of("/proc/sys/net/ipv4/ip_forward")).trim().equals("1");
    } catch (IOException e) {
      return false;
    }
  }

  /** The table, its sets and its chains; routes are elements of {@code ports}, {@code routes} and {@code current}. */
  List<String> setup(Forwarder.Limits limits) {
    String t = "ip " + table;
    List<String> c = new ArrayList<>();
    // a table left by an earlier run with the same address (one not owned, from an older nft) goes first
    c.add("add table " + t);
    c.add("delete table " + t);
    c.add("add table " + t + " { flags owner; }");
    // the cluster ports this agent serves; cluster port -> host address . app port; the triples current now
    c.add("add set " + t + " ports { type inet_service; }");
    c.add("add map " + t + " routes { type inet_service : ipv4_addr . inet_service; }");
    c.add("add set " + t + " current { type inet_service . ipv4_addr . inet_service; }");
    // open connections per cluster port, whichever way they are forwarded (the kernel counts them all)
    c.add("add set " + t + " conns { type inet_service; flags dynamic; }");
    c.add("add chain " + t + " route");
    c.add("add rule " + t + " route tcp flags & (syn | ack) != syn meta mark set " + REFUSE_MARK + " accept");
    c.add("add rule " + t + " route ct state new add @conns { tcp dport ct count over " + limits.maxConnectionsPerApp()
        + " } meta mark set " + REFUSE_MARK + " accept");
    c.add("add rule " + t + " route dnat ip to tcp dport map @routes");
    c.add("add chain " + t + " nat_output { type nat hook output priority -100; policy accept; }");
    c.add("add rule " + t + " nat_output ip daddr " + address + " tcp dport @ports jump route");
    if (remoteClients) {
      c.add("add chain " + t + " nat_prerouting { type nat hook prerouting priority -100; policy accept; }");
      c.add("add rule " + t + " nat_prerouting ip daddr " + address + " tcp dport @ports jump route");
      c.add("add chain " + t + " nat_postrouting { type nat hook postrouting priority 100; policy accept; }");
      // replies from another server must come back through this one to be translated back
      c.add("add rule " + t + " nat_postrouting ct status dnat ct direction original ct original ip daddr " + address
          + " oif != lo snat ip to " + address);
    }
    String stale = "ct status dnat ct direction original ct original ip daddr " + address + " meta l4proto tcp"
        + " ct original proto-dst @ports"
        + " ct original proto-dst . ct reply ip saddr . ct reply proto-src != @current reject with tcp reset";
    for (String hook : List.of("output", "input", "forward")) {
      c.add("add chain " + t + " guard_" + hook + " { type filter hook " + hook + " priority 0; policy accept; }");
      c.add("add rule " + t + " guard_" + hook + " " + stale);
      if (!hook.equals("forward")) c.add("add rule " + t + " guard_" + hook + " meta mark " + REFUSE_MARK + " reject with tcp reset");
    }
    return c;
  }

  List<String> idleTimeoutRules(Forwarder.Limits limits) {
    String t = "ip " + table;
    long seconds = Math.max(1, limits.idleTimeout().toSeconds());
    List<String> c = new ArrayList<>();
    c.add("add ct timeout " + t + " idle { protocol tcp; l3proto ip; policy = { established: " + seconds + " }; }");
    for (String hook : remoteClients ? List.of("output", "prerouting") : List.of("output")) {
      c.add("add chain " + t + " idle_" + hook + " { type filter hook " + hook + " priority -150; policy accept; }");
      c.add("add rule " + t + " idle_" + hook + " ip daddr " + address + " tcp dport @ports ct state new ct timeout set \"idle\"");
    }
    return c;
  }

  /**
   * Makes the kernel's routes these, on this object's own thread (the caller never waits for nft): a route with an
   * upstream is rewritten there, one without is not rewritten (its clients wait in user space), and connections
   * rewritten to any other destination are reset. Only the latest routes matter: older ones not yet applied are skipped.
   */
  public void update(List<Forwarder.Route> routes) {
    pending.set(List.copyOf(routes));
    wake.release();
  }

  private void applyLoop() {
    while (true) {
      try {
        wake.acquire();
        wake.drainPermits();
      } catch (InterruptedException e) {
        return;
      }
      List<Forwarder.Route> r = pending.getAndSet(null);
      if (r == null) continue;
      if (closed) return;
      apply(r);
      applied.incrementAndGet();
    }
  }

  /** Route sets applied so far (tests wait on it). */
  public long applied() { return applied.get(); }

  private synchronized void apply(List<Forwarder.Route> routes) {
    Map<Integer, InetSocketAddress> want = new TreeMap<>();
    List<Integer> ports = new ArrayList<>();
    for (Forwarder.Route r : routes) {
      ports.add(r.clusterPort());
      r.upstream().ifPresent(u -> want.put(r.clusterPort(), u));
    }
    java.util.Collections.sort(ports);
    if (want.equals(installed) && ports.equals(installedPorts)) return;
    String t = "ip " + table;
    // one line is one transaction: there is no instant with a half-changed route
    StringBuilder line = new StringBuilder("flush set " + t + " ports; flush map " + t + " routes; flush set " + t + " current");
    if (!ports.isEmpty()) line.append("; add element ").append(t).append(" ports { ").append(join(ports.stream().map(String::valueOf).toList())).append(" }");
    if (!want.isEmpty()) {
      List<String> routeElems = new ArrayList<>();
      List<String> currentElems = new ArrayList<>();
      for (var e : want.entrySet()) {
        String to = e.getValue().getAddress().getHostAddress() + " . " + e.getValue().getPort();
        routeElems.add(e.getKey() + " : " + to);
        currentElems.add(e.getKey() + " . " + to);
      }
      line.append("; add element ").append(t).append(" routes { ").append(join(routeElems)).append(" }");
      line.append("; add element ").append(t).append(" current { ").append(join(currentElems)).append(" }");
    }
    try {
      List<String> failed = send(List.of(line.toString()));
      if (failed.isEmpty()) {
        installed = want;
        installedPorts = ports;
        return;
      }
      errors.incrementAndGet();
      log.warn("kernel forwarding: routes not changed ({}); taking every route out of the kernel", failed.get(0));
    } catch (IOException e) {
      errors.incrementAndGet();
      log.warn("kernel forwarding: {}; taking every route out of the kernel", e.getMessage());
    }
    // the routes the kernel should hold are unknown now: it rewrites nothing more (user space serves), and every
    // connection it rewrote before is reset at its next packet, since none of them is known to reach the current host
    try {
      List<String> failed = send(List.of("flush map " + t + " routes; flush set " + t + " current"));
      if (!failed.isEmpty()) throw new IOException(failed.get(0));
    } catch (IOException e) {
      log.warn("kernel forwarding: cannot clear the routes ({}); ending nft, which removes its table", e.getMessage());
      nft.destroyForcibly();
    }
    installed = Map.of();
    installedPorts = List.of();
  }

  private static String join(List<String> items) { return String.join(", ", items); }

  /** Updates that failed (each left the kernel with no route and reset what it had rewritten; user space served). */
  public long errors() { return errors.get(); }

  public boolean enforcesIdleTimeout() { return idleTimeout; }

  public String table() { return table; }

  /**
   * Writes the commands, then one that fails on purpose naming a fresh marker: nft echoes each failing command after
   * its error, so the marker's echo ends this batch's output. Returns the batch's errors (empty: all applied).
   */
  private List<String> send(List<String> lines) throws IOException {
    if (!nft.isAlive()) throw new IOException("the nft process exited (" + nft.exitValue() + ")");
    String marker = "list set ip " + table + " sync_" + (++syncs);
    output.clear();
    for (String l : lines) commands.write(l + "\n");
    commands.write(marker + "\n");
    commands.flush();
    List<String> errs = new ArrayList<>();
    String lastError = null;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(REPLY_TIMEOUT_MS);
    while (true) {
      String line;
      try {
        line = output.poll(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted waiting for nft");
      }
      if (line == null) throw new IOException("nft did not answer within " + REPLY_TIMEOUT_MS + " ms");
      if (line.trim().equals(marker)) return errs;
      if (line.startsWith("Error:")) {
        lastError = line.substring(6).trim();
      } else if (lastError != null && !line.isBlank() && !line.trim().startsWith("^")) {
        errs.add(lastError + ": " + line.trim()); // the failed command, echoed after its error
        lastError = null;
      }
    }
  }

  /** Closing nft's stdin ends it, and the kernel removes the table it owns. */
  @Override
  public void close() {
    closed = true;
    applier.interrupt();
    try {
      applier.join(REPLY_TIMEOUT_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      commands.close();
    } catch (IOException ignored) {
      // ending anyway
    }
    try {
      if (!nft.waitFor(2, TimeUnit.SECONDS)) nft.destroyForcibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      nft.destroyForcibly();
    }
  }
}
