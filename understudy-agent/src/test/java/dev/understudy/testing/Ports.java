package dev.understudy.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free TCP ports on a loopback address, for tests that start real servers. */
public final class Ports {
  private Ports() {}

  public static int freeUdp(String host) {
    try (java.net.DatagramSocket s = new java.net.DatagramSocket(new java.net.InetSocketAddress(host, 0))) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static int free(String host) {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
