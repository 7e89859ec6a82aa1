package dev.understudy.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A small network of namespaces that the benchmark makes and removes itself: one namespace per node, each with an
 * {@code eth0} joined to a bridge that lives in a namespace of its own. Both ends of every link are created inside
 * the lab's namespaces, so the machine's own interfaces and routes are never touched. Addresses are in
 * {@link #SUBNET}, which exists only inside the lab. Used by the benchmark against keepalived and by the partition
 * drill of the tests.
 */
public final class NetLab implements AutoCloseable {
  public static final String SUBNET = "10.213.0.";
  private final String prefix;
  private final Map<String, String> addresses = new LinkedHashMap<>();

  private NetLab(String prefix) { this.prefix = prefix; }

  /** Why a lab cannot be made here (not root, no iproute2, no namespaces), or empty when it can. */
  public static Optional<String> unavailable() {
    if (!"root".equals(System.getProperty("user.name"))) return Optional.of("network namespaces need root");
    String probe = "usprobe" + ProcessHandle.current().pid();
    try {
      run("ip", "netns", "add", probe);
      run("ip", "netns", "del", probe);
      return Optional.empty();
    } catch (IOException e) {
      return Optional.of("cannot create a network namespace: " + e.getMessage());
    }
  }

  /** Nodes get addresses SUBNET.1, .2, ... in the order given. */
  public static NetLab create(List<String> nodes) throws IOException {
    NetLab lab = new NetLab("us" + ProcessHandle.current().pid() + "-");
    try {
      String sw = lab.ns("sw");
      run("ip", "netns", "add", sw);
      run("ip", "-n", sw, "link", "add", "br0", "type", "bridge");
      run("ip", "-n", sw, "link", "set", "br0", "up");
      int i = 1;
      for (String node : nodes) {
        String ns = lab.ns(node);
        run("ip", "netns", "add", ns);
        lab.addresses.put(node, SUBNET + i);
        run("ip", "-n", sw, "link", "add", "p" + i, "type", "veth", "peer", "name", "eth0", "netns", ns);
        run("ip", "-n", sw, "link", "set", "p" + i, "master", "br0", "up");
        run("ip", "-n", ns, "addr", "add", SUBNET + i + "/24", "dev", "eth0");
        run("ip", "-n", ns, "link", "set", "eth0", "up");
        run("ip", "-n", ns, "link", "set", "lo", "up");
        i++;
      }
    } catch (IOException | RuntimeException e) {
      lab.close();
      throw e;
    }
    return lab;
  }

  /** The lab another process made (the benchmark inside its client namespace), with the same nodes in the same order. */
  public static NetLab attach(String prefix, List<String> nodes) {
    NetLab lab = new NetLab(prefix);
    for (int i = 0; i < nodes.size(); i++) lab.addresses.put(nodes.get(i), SUBNET + (i + 1));
    return lab;
  }

  public String prefix() { return prefix; }

  public String ns(String node) { return prefix + node; }

  public String address(String node) { return addresses.get(node); }

  /** The command, run inside the node's namespace. */
  public List<String> in(String node, List<String> cmd) {
    List<String> out = new ArrayList<>(List.of("ip", "netns", "exec", ns(node)));
    out.addAll(cmd);
    return out;
  }

  /** The node's link goes down (a dead machine answers nothing, not even ARP) or up again. */
  public void link(String node, boolean up) throws IOException {
    run("ip", "-n", ns(node), "link", "set", "eth0", up ? "up" : "down");
  }

  /** SIGKILL of every process in the node's namespace: its server died. */
  public void killAll(String node) throws IOException {
    String pids = run("ip", "netns", "pids", ns(node)).trim();
    if (pids.isEmpty()) return;
    List<String> cmd = new ArrayList<>(List.of("kill", "-9"));
    cmd.addAll(List.of(pids.split("\\s+")));
    try {
      run(cmd.toArray(String[]::new));
    } catch (IOException e) {
      // a process that exited meanwhile
    }
    for (int i = 0; i < 100 && !run("ip", "netns", "pids", ns(node)).isBlank(); i++) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public void close() {
    for (String node : addresses.keySet()) {
      try {
        killAll(node);
      } catch (IOException ignored) {
        // removing anyway
      }
    }
    for (String node : new ArrayList<>(addresses.keySet())) quietly("ip", "netns", "del", ns(node));
    quietly("ip", "netns", "del", ns("sw"));
  }

  private static void quietly(String... cmd) {
    try {
      run(cmd);
    } catch (IOException ignored) {
      // best effort
    }
  }

  public static String run(String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (p.waitFor() != 0) throw new IOException(String.join(" ", cmd) + " failed: " + out.trim());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    return out;
  }
}
