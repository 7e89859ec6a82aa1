package dev.understudy.chaos;

import dev.understudy.testing.NetLab;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Cuts between servers of a {@link NetLab}, one server per namespace: a link down, TCP dropped (UDP heartbeats
 * still pass), or everything dropped between two servers only (each still reaches the third). Filters are
 * nftables rules on {@code eth0} inside the server's own namespace, so the agent's connections to itself stay up.
 */
final class Cuts {
  private final NetLab lab;
  private final List<String> servers;
  private final List<String> nodes;
  private final Set<String> filtered = new HashSet<>();
  private final Set<String> linksDown = new HashSet<>();

  Cuts(NetLab lab, List<String> servers, List<String> nodes) {
    this.lab = lab;
    this.servers = servers;
    this.nodes = nodes;
  }

  /** Whether nftables' {@code nft} is installed (Debian's nftables): without it only links can be cut. */
  static boolean nftables() {
    return dev.understudy.route.KernelRoutes.nft().isPresent();
  }

  String address(String server) { return lab.address(node(server)); }

  /** The server's link goes down: nothing in or out, a dead machine as its peers see it. */
  void linkDown(String server) throws IOException {
    lab.link(node(server), false);
    linksDown.add(server);
  }

  /** The server's TCP is dropped both ways (Raft and the API); its UDP heartbeats still pass. */
  void dropTcp(String server) throws IOException {
    filter(server, "iifname eth0 meta l4proto tcp", "oifname eth0 meta l4proto tcp");
  }

  /** Nothing passes between {@code a} and {@code b}; both still reach every other server. */
  void dropBetween(String a, String b) throws IOException {
    filter(a, "ip saddr " + address(b), "ip daddr " + address(b));
    filter(b, "ip saddr " + address(a), "ip daddr " + address(a));
  }

  /** Removes every cut of the server. */
  void heal(String server) throws IOException {
    if (linksDown.remove(server)) lab.link(node(server), true);
    if (filtered.remove(server)) nft(server, "delete table inet cut");
  }

  void healAll() throws IOException {
    for (String s : servers) heal(s);
  }

  private void filter(String server, String in, String out) throws IOException {
    if (filtered.add(server)) {
      nft(server, "add table inet cut");
      nft(server, "add chain inet cut in { type filter hook input priority 0 ; }");
      nft(server, "add chain inet cut out { type filter hook output priority 0 ; }");
    }
    nft(server, "add rule inet cut in " + in + " drop");
    nft(server, "add rule inet cut out " + out + " drop");
  }

  private void nft(String server, String command) throws IOException {
    List<String> cmd = new ArrayList<>(lab.in(node(server), List.of("nft")));
    cmd.addAll(List.of(command.split(" ")));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (p.waitFor() != 0) throw new IOException("nft " + command + ": " + out.trim());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private String node(String server) { return nodes.get(servers.indexOf(server)); }
}
