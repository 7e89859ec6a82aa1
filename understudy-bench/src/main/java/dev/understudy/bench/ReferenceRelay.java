package dev.understudy.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * The simplest fast TCP relay, for comparison with the forwarder: two blocking threads per connection, one per
 * direction, each with its own direct buffer. If it reaches no more of the direct throughput than the forwarder's
 * single selector thread does, the shortfall is the extra hop (two more TCP connections on the same cores), not
 * the forwarder's design.
 */
final class ReferenceRelay implements AutoCloseable {
  private final ServerSocketChannel server;
  private final InetSocketAddress target;

  ReferenceRelay(String host, InetSocketAddress target) throws IOException {
    this.target = target;
    this.server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(host, 0));
    daemon(this::acceptLoop);
  }

  InetSocketAddress address() throws IOException {
    return (InetSocketAddress) server.getLocalAddress();
  }

  private void acceptLoop() {
    while (server.isOpen()) {
      try {
        SocketChannel client = server.accept();
        SocketChannel upstream = SocketChannel.open(target);
        client.setOption(StandardSocketOptions.TCP_NODELAY, true);
        upstream.setOption(StandardSocketOptions.TCP_NODELAY, true);
        daemon(() -> copy(client, upstream));
        daemon(() -> copy(upstream, client));
      } catch (IOException e) {
        return;
      }
    }
  }

  private static void copy(SocketChannel from, SocketChannel to) {
    ByteBuffer buf = ByteBuffer.allocateDirect(256 * 1024);
    try (from; to) {
      while (from.read(buf) > 0) {
        buf.flip();
        while (buf.hasRemaining()) to.write(buf);
        buf.clear();
      }
    } catch (IOException ignored) {
      // the other direction or the benchmark closed it
    }
  }

  private static void daemon(Runnable r) {
    Thread t = new Thread(r, "reference-relay");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
