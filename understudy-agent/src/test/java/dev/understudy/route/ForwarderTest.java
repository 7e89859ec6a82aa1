package dev.understudy.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.understudy.testing.Ports;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ForwarderTest {
  static final String AGENT = "127.0.0.31";
  final List<AutoCloseable> closing = new ArrayList<>();
  final int clusterPort = Ports.free(AGENT);

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closing) c.close();
  }

  /** An echo server on a loopback address, one thread per connection. */
  InetSocketAddress echo(String host) throws IOException {
    ServerSocket ss = new ServerSocket(0, 2000, InetAddress.getByName(host));
    closing.add(ss);
    Thread t = new Thread(() -> {
      while (!ss.isClosed()) {
        try {
          Socket s = ss.accept();
          Thread w = new Thread(() -> {
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
              in.transferTo(out);
            } catch (IOException ignored) {
              // client went away
            }
          });
          w.setDaemon(true);
          w.start();
        } catch (IOException e) {
          return;
        }
      }
    });
    t.setDaemon(true);
    t.start();
    return new InetSocketAddress(host, ss.getLocalPort());
  }

  Forwarder forwarder(Forwarder.Limits limits) throws IOException {
    Forwarder f = new Forwarder(AGENT, limits);
    closing.add(f);
    return f;
  }

  static String roundTrip(Socket s, String msg) throws IOException {
    s.getOutputStream().write(msg.getBytes());
    byte[] buf = new byte[msg.length()];
    int n = 0;
    while (n < buf.length) {
      int r = s.getInputStream().read(buf, n, buf.length - n);
      if (r < 0) throw new IOException("closed after " + n + " bytes");
      n += r;
    }
    return new String(buf);
  }

  Socket connect() throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress(AGENT, clusterPort), 2000);
    s.setSoTimeout(30_000); // a capacity test on a loaded machine, not a speed test: 1000 echo threads start slowly
    closing.add(s);
    return s;
  }

  @Test
  void forwardsToTheCurrentHost() throws Exception {
    InetSocketAddress up = echo("127.0.0.32");
    Forwarder f = forwarder(Forwarder.Limits.defaults());
    f.update(List.of(new Forwarder.Route("app", clusterPort, Optional.of(up))));
    await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> roundTrip(connect(), "hello").equals("hello"));
  }

  @Test
  void waitsForAHostMidFailoverThenConnects() throws Exception {
    InetSocketAddress up = echo("127.0.0.33");
    Forwarder f = forwarder(Forwarder.Limits.defaults());
    f.update(List.of(new Forwarder.Route("app", clusterPort, Optional.empty())));
    await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> {
      connect().close();
      return true;
    });
    Socket s = connect();
    s.getOutputStream().write("early".getBytes());
    Thread.sleep(300);
    f.update(List.of(new Forwarder.Route("app", clusterPort, Optional.of(up))));
    byte[] buf = new byte[5];
    assertThat(s.getInputStream().readNBytes(buf, 0, 5)).isEqualTo(5);
    assertThat(new String(buf)).isEqualTo("early");
  }

  @Test
  void hostChangeClosesOldConnectionsAndNewOnesReachTheNewHost() throws Exception {
    InetSocketAddress a = echo("127.0.0.34");
    InetSocketAddress b = echo("127.0.0.35");
    Forwarder f = forwarder(Forwarder.Limits.defaults());
    f.update(List.of(new Forwarder.Route("app", clusterPort, Optional.of(a))));
    Socket old = await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> {
      Socket s = connect();
      roundTrip(s, "x");
      return s;
    }, s -> true);
    f.update(List.of(new Forwarder.Route("app", clusterPort, Optional.of(b))));
    assertThat(old.getInputStream().read()).as("old connection closed").isEqualTo(-1);
    assertThat(roundTrip(connect(), "new")).isEqualTo("new");
  }

  @Test
  void refusesAfterWaitingTooLongForAHost() throws Exception {
    Forwarder f = forwarder(new Forwarder.Limits(100, Duration.ofMillis(300), Duration.ofMinutes(1)));
    f.update(List.of(new Forwarder.Route("app", clusterPort, Optional.empty())));
    Thread.sleep(200);
    Socket s = connect();
    assertThat(s.getInputStream().read()).isEqualTo(-1);
    assertThat(f.refusedConnections()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void thousandConcurrentConnections() throws Exception {
    InetSocketAddress up = echo("127.0.0.36");
    Forwarder f = forwarder(Forwarder.Limits.defaults());
    f.update(List.of(new Forwarder.Route("app", clusterPort, Optional.of(up))));
    await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> roundTrip(connect(), "ok").equals("ok"));
    List<Socket> socks = new ArrayList<>();
    for (int i = 0; i < 1000; i++) socks.add(connect());
    for (int i = 0; i < socks.size(); i++) assertThat(roundTrip(socks.get(i), "m" + i)).isEqualTo("m" + i);
    assertThat(f.openConnections()).isGreaterThanOrEqualTo(1000);
  }

  /**
   * #21: every connection held two 256 KiB direct buffers from its accept, so some 480 idle connections spent an
   * agent's direct memory and the error killed the forwarder's thread. Now buffers come from a bounded pool and only
   * while bytes are in flight: with room for 8 buffers, 300 idle connections hold none, and all 300 still echo.
   */
  @Test
  void idleConnectionsHoldNoBuffersAndABusyPoolMakesConnectionsWaitNotFail() throws Exception {
    InetSocketAddress up = echo("127.0.0.38");
    Forwarder f = new Forwarder(AGENT, Forwarder.Limits.defaults(), 8 * 64 * 1024);
    closing.add(f);
    f.update(List.of(new Forwarder.Route("app", clusterPort, Optional.of(up))));
    await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> roundTrip(connect(), "ok").equals("ok"));
    List<Socket> socks = new ArrayList<>();
    for (int i = 0; i < 300; i++) socks.add(connect());
    await().atMost(Duration.ofSeconds(10)).until(() -> f.openConnections() >= 300);
    assertThat(f.buffersInUse()).as("idle connections hold no buffer").isZero();
    assertThat(f.bufferCapacity()).isEqualTo(8);
    // every connection at once has bytes in flight: more than the pool holds, so some wait for a buffer
    for (int i = 0; i < socks.size(); i++) socks.get(i).getOutputStream().write(("m" + i).getBytes());
    for (int i = 0; i < socks.size(); i++) {
      String want = "m" + i;
      byte[] got = socks.get(i).getInputStream().readNBytes(want.length());
      assertThat(new String(got)).isEqualTo(want);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> f.buffersInUse() == 0);
  }

  @Test
  void slowReaderDoesNotMakeTheAgentBuffer() throws Exception {
    // upstream pushes as fast as it can; the client never reads: the upstream must block, not the agent buffer
    ServerSocket ss = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.37"));
    closing.add(ss);
    AtomicLong pushed = new AtomicLong();
    Thread pusher = new Thread(() -> {
      try (Socket s = ss.accept(); OutputStream out = s.getOutputStream()) {
        byte[] chunk = new byte[64 * 1024];
        while (true) {
          out.write(chunk);
          pushed.addAndGet(chunk.length);
        }
      } catch (IOException ignored) {
        // closed at test end
      }
    });
    pusher.setDaemon(true);
    pusher.start();
    Forwarder f = forwarder(Forwarder.Limits.defaults());
    f.update(List.of(new Forwarder.Route("app", clusterPort, Optional.of(new InetSocketAddress("127.0.0.37", ss.getLocalPort())))));
    Thread.sleep(300);
    Socket client = connect();
    client.setReceiveBufferSize(8192);
    Thread.sleep(2000);
    long stalledAt = pushed.get();
    Thread.sleep(1000);
    assertThat(pushed.get()).as("upstream is blocked by backpressure").isEqualTo(stalledAt);
    // socket buffers of both hops plus the agent's two 64 KiB buffers: a few MiB at most, never unbounded
    assertThat(stalledAt).isLessThan(32L << 20);
  }
}
