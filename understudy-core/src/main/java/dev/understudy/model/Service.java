package dev.understudy.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The app serves TCP: clients reach it on every agent at {@code clusterPort}; the app listens on {@code appPort}.
 * Optionally a virtual IP follows the host: the host adds {@code virtualIp} to {@code virtualIpInterface} (in network
 * namespace {@code virtualIpNetns}, if set) before the app starts, announces it with a gratuitous ARP where arping is
 * installed, and removes it after the app stops.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Service(int clusterPort, int appPort, String virtualIp, String virtualIpInterface, String virtualIpNetns) {
  public Service(int clusterPort, int appPort) { this(clusterPort, appPort, null, null, null); }

  /** The virtual IP as a managed resource of the app (FIG. 7A 812-814: "activates"; 7B 868-870: "deactivates"). */
  public ManagedResource virtualIpResource() {
    if (virtualIp == null) return null;
    String ns = virtualIpNetns == null ? "" : "-n " + virtualIpNetns + " ";
    String exec = virtualIpNetns == null ? "" : "ip netns exec " + virtualIpNetns + " ";
    String addr = virtualIp + "/32";
    return new ManagedResource("virtual-ip",
        java.util.List.of("bash", "-c", "ip " + ns + "addr replace " + addr + " dev " + virtualIpInterface
            + " && { command -v arping >/dev/null && " + exec + "arping -q -U -c 1 -I " + virtualIpInterface + " " + virtualIp
            + " || true; }"),
        java.util.List.of("bash", "-c", "ip " + ns + "addr del " + addr + " dev " + virtualIpInterface + " 2>/dev/null || true"),
        java.util.List.of("bash", "-c", "ip " + ns + "-o addr show dev " + virtualIpInterface + " | grep -qF ' " + addr + " '"),
        10_000L);
  }
}
