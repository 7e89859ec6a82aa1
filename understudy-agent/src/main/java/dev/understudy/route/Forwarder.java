package dev.understudy.route;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client rerouting (FIG. 3C, 7A 816): every agent listens on each app's cluster port and forwards each new TCP
 * connection to the app's current host. One selector thread, direct buffers (no copy through the Java heap) from a
 * bounded pool ({@link BufferPool}), and backpressure: a side that cannot take more stops the other side from being
 * read, so a slow client never makes the agent buffer more than two buffers per connection, and idle ones hold none.
 */
public final class Forwarder implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Forwarder.class);
  private static final int BUF = 64 * 1024;

  /** Where one app's clients go now; empty while no server hosts it. */
  public record Route(String tag, int clusterPort, Optional<InetSocketAddress> upstream) {}

  public record Limits(int maxConnectionsPerApp, Duration waitForHost, Duration idleTimeout) {
    public static Limits defaults() { return new Limits(10_000, Duration.ofSeconds(10), Duration.ofMinutes(10)); }
  }

  private final class Listener {
    final String tag;
    final ServerSocketChannel server;
    volatile Optional<InetSocketAddress> upstream = Optional.empty();
    int open;

    Listener(String tag, ServerSocketChannel server) {
      this.tag = tag;
      this.server = server;
    }
  }

  /** One forwarded connection: a client and (once known) its upstream. */
  private final class Pipe {
    final Listener owner;
    final SocketChannel client;
    SocketChannel upstream;
    InetSocketAddress target;
    /** Bytes read from one side, waiting to be written to the other; null while there are none (back in the pool). */
    ByteBuffer toUpstream;
    ByteBuffer toClient;
    /** A side had bytes to read when the pool had no buffer: it is not read until one comes back. */
    boolean starved;
    boolean clientEof;
    boolean upstreamEof;
    long waitingSince;
    long lastActivity;
    boolean closed;

    Pipe(Listener owner, SocketChannel client, long now) {
      this.owner = owner;
      this.client = client;
      this.waitingSince = now;
      this.lastActivity = now;
    }
  }

  private final String bindAddress;
  private final Limits limits;
  private final Selector selector;
  private final Thread thread;
  private final Map<String, Listener> listeners = new HashMap<>();
  private final List<Pipe> pipes = new ArrayList<>();
  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicLong forwarded = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final BufferPool buffers;
  private volatile boolean running = true;
  private static final long HOUSEKEEPING_NANOS = 50_000_000L;
  private long lastHousekeeping;

  public Forwarder(String bindAddress, Limits limits) throws IOException {
    this(bindAddress, limits, BufferPool.defaultBudget());
  }

  /** {@code bufferBudget}: the most bytes of direct buffers all connections together may hold. */
  Forwarder(String bindAddress, Limits limits, long bufferBudget) throws IOException {
    this.bindAddress = bindAddress;
    this.limits = limits;
    this.buffers = new BufferPool(BUF, bufferBudget);
    this.selector = Selector.open();
    this.thread = new Thread(this::loop, "forwarder");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /** Sets the routes (called on every database change): opens new listeners, closes removed ones, re-targets. */
  public void update(List<Route> routes) {
    tasks.add(() -> apply(routes));
    selector.wakeup();
  }

  public long forwardedConnections() { return forwarded.get(); }

  public long refusedConnections() { return refused.get(); }

  public int openConnections() { return pipes.size(); }

  /** Direct buffers held by connections now, and the most there may be. */
  public int buffersInUse() { return buffers.inUse(); }

  public int bufferCapacity() { return buffers.capacity(); }

  /** The forwarder's one thread (the benchmark reads its CPU time). */
  public long threadId() { return thread.getId(); }

  private void apply(List<Route> routes) {
    Map<String, Route> want = new HashMap<>();
    for (Route r : routes) want.put(r.tag(), r);
    for (Iterator<Map.Entry<String, Listener>> it = listeners.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      Route r = want.get(e.getKey());
      if (r == null || r.clusterPort() != e.getValue().server.socket().getLocalPort()) {
        closeQuietly(e.getValue().server);
        for (Pipe p : List.copyOf(pipes)) if (p.owner == e.getValue()) close(p);
        it.remove();
      }
    }
    for (Route r : routes) {
      Listener l = listeners.get(r.tag());
      if (l == null) {
        try {
          ServerSocketChannel ss = ServerSocketChannel.open();
          ss.setOption(StandardSocketOptions.SO_REUSEADDR, true);
          ss.bind(new InetSocketAddress(bindAddress, r.clusterPort()), 1024);
          ss.configureBlocking(false);
          l = new Listener(r.tag(), ss);
          ss.register(selector, SelectionKey.OP_ACCEPT, l);
          listeners.put(r.tag(), l);
          log.info("forwarding {}:{} for {}", bindAddress, r.clusterPort(), r.tag());
        } catch (IOException e) {
          log.warn("cannot listen on {}:{} for {}: {}", bindAddress, r.clusterPort(), r.tag(), e.getMessage());
          continue;
        }
      }
      Optional<InetSocketAddress> old = l.upstream;
      l.upstream = r.upstream();
      if (!old.equals(r.upstream())) {
        // the host changed: connections to the old host are closed, not left hanging
        for (Pipe p : List.copyOf(pipes)) {
          if (p.owner == l && p.target != null && !Optional.of(p.target).equals(r.upstream())) close(p);
        }
      }
    }
  }

  private void loop() {
    while (running) {
      try {
        // housekeeping has nothing to time out without connections: sleep until one comes (or a route, or close)
        selector.select(pipes.isEmpty() ? 0 : 100);
        Runnable t;
        boolean routed = false;
        while ((t = tasks.poll()) != null) {
          t.run();
          routed = true;
        }
        long now = System.nanoTime();
        for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
          SelectionKey k = it.next();
          it.remove();
          try {
            handle(k, now);
          } catch (CancelledKeyException e) {
            // closed meanwhile
          }
        }
        // timeouts and waiting connections every 50 ms, not at every wake-up: a busy connection wakes the selector
        // thousands of times a second, and housekeeping walks every connection
        // (and at once after a route changed: clients waiting for a host connect to it without delay)
        if (routed || now - lastHousekeeping > HOUSEKEEPING_NANOS) {
          lastHousekeeping = now;
          housekeeping(now);
        }
      } catch (IOException | RuntimeException e) {
        if (running) log.warn("forwarder loop: {}", e.toString());
      }
    }
  }

  private void handle(SelectionKey k, long now) {
    if (k.attachment() instanceof Listener l) {
      accept(l, now);
      return;
    }
    Pipe p = (Pipe) k.attachment();
    if (p.closed) return;
    try {
      if (k.isConnectable()) {
        p.upstream.finishConnect();
        forwarded.incrementAndGet();
      }
      p.lastActivity = now;
      pump(p);
    } catch (IOException e) {
      close(p);
    }
  }

  private void accept(Listener l, long now) {
    try {
      SocketChannel c;
      while ((c = l.server.accept()) != null) {
        if (l.open >= limits.maxConnectionsPerApp()) {
          refused.incrementAndGet();
          closeQuietly(c);
          continue;
        }
        c.configureBlocking(false);
        c.setOption(StandardSocketOptions.TCP_NODELAY, true);
        Pipe p = new Pipe(l, c, now);
        l.open++;
        pipes.add(p);
        c.register(selector, 0, p);
        tryConnect(p);
      }
    } catch (IOException e) {
      log.debug("accept failed: {}", e.toString());
    }
  }

  /** Connects a waiting pipe if its app has a host now. */
  private void tryConnect(Pipe p) throws IOException {
    Optional<InetSocketAddress> up = p.owner.upstream;
    if (up.isEmpty()) return; // mid-failover: wait for a host (housekeeping times it out)
    p.target = up.get();
    p.upstream = SocketChannel.open();
    p.upstream.configureBlocking(false);
    p.upstream.setOption(StandardSocketOptions.TCP_NODELAY, true);
    boolean done = p.upstream.connect(p.target);
    p.upstream.register(selector, done ? 0 : SelectionKey.OP_CONNECT, p);
    if (done) forwarded.incrementAndGet();
    if (done) pump(p);
  }

  /** Moves what each side can take; sets interest so nobody reads more than the other side can absorb. */
  private void pump(Pipe p) throws IOException {
    if (p.upstream == null || !p.upstream.isConnected()) return;
    // move bytes until neither direction makes progress (fewer selector wake-ups than one read per event)
    boolean progress = true;
    for (int rounds = 0; progress && rounds < 16; rounds++) {
      if (p.toUpstream == null && !p.clientEof) p.toUpstream = take(p);
      progress = p.toUpstream != null && transfer(p.client, p.toUpstream, p.upstream, true, p);
      p.toUpstream = giveBackIfEmpty(p.toUpstream);
      if (p.toClient == null && !p.upstreamEof) p.toClient = take(p);
      progress |= p.toClient != null && transfer(p.upstream, p.toClient, p.client, false, p);
      p.toClient = giveBackIfEmpty(p.toClient);
    }
    if (p.clientEof && p.toUpstream == null && !p.upstream.socket().isOutputShutdown()) p.upstream.shutdownOutput();
    if (p.upstreamEof && p.toClient == null && !p.client.socket().isOutputShutdown()) p.client.shutdownOutput();
    if (p.clientEof && p.upstreamEof && p.toUpstream == null && p.toClient == null) {
      close(p);
      return;
    }
    int clientOps = 0;
    int upOps = 0;
    if (!p.clientEof && !p.starved && (p.toUpstream == null || p.toUpstream.hasRemaining())) clientOps |= SelectionKey.OP_READ;
    if (p.toClient != null) clientOps |= SelectionKey.OP_WRITE;
    if (!p.upstreamEof && !p.starved && (p.toClient == null || p.toClient.hasRemaining())) upOps |= SelectionKey.OP_READ;
    if (p.toUpstream != null) upOps |= SelectionKey.OP_WRITE;
    setOps(p.client.keyFor(selector), clientOps);
    setOps(p.upstream.keyFor(selector), upOps);
  }

  /** A buffer for one of {@code p}'s directions, or null: then {@code p} is not read until housekeeping retries it. */
  private ByteBuffer take(Pipe p) {
    ByteBuffer b = buffers.take();
    if (b == null && !p.starved) {
      p.starved = true;
      starvedPipes++;
    }
    return b;
  }

  private ByteBuffer giveBackIfEmpty(ByteBuffer b) {
    if (b == null || b.position() > 0) return b;
    buffers.give(b);
    return null;
  }

  private int starvedPipes;

  private static void setOps(SelectionKey k, int ops) {
    if (k.interestOps() != ops) k.interestOps(ops);
  }

  /** One read from {@code from} into {@code buf} (if room) and one write of {@code buf} to {@code to}. */
  private static boolean transfer(SocketChannel from, ByteBuffer buf, SocketChannel to, boolean fromClient, Pipe p)
      throws IOException {
    boolean progress = false;
    boolean eof = fromClient ? p.clientEof : p.upstreamEof;
    if (!eof && buf.hasRemaining()) {
      int n = from.read(buf);
      if (n < 0) {
        if (fromClient) p.clientEof = true;
        else p.upstreamEof = true;
      } else if (n > 0) {
        progress = true;
      }
    }
    if (buf.position() > 0) {
      buf.flip();
      int w = to.write(buf);
      buf.compact();
      if (w > 0) progress = true;
    }
    return progress;
  }

  private void housekeeping(long now) {
    boolean retryStarved = starvedPipes > 0;
    starvedPipes = 0;
    for (Pipe p : List.copyOf(pipes)) {
      if (p.closed) continue;
      try {
        if (retryStarved && p.starved) {
          p.starved = false; // buffers may have come back: read it again (or it starves again, and waits)
          pump(p);
        }
        if (p.upstream == null) {
          if (now - p.waitingSince > limits.waitForHost().toNanos()) {
            refused.incrementAndGet();
            close(p);
          } else {
            tryConnect(p);
          }
        } else if (now - p.lastActivity > limits.idleTimeout().toNanos()) {
          close(p);
        } else if (!p.upstream.isConnected() && now - p.lastActivity > Duration.ofSeconds(5).toNanos()) {
          close(p); // upstream connect hanging
        }
      } catch (IOException e) {
        close(p);
      }
    }
  }

  private void close(Pipe p) {
    if (p.closed) return;
    p.closed = true;
    p.owner.open--;
    pipes.remove(p);
    if (p.toUpstream != null) buffers.give(p.toUpstream);
    if (p.toClient != null) buffers.give(p.toClient);
    p.toUpstream = null;
    p.toClient = null;
    closeQuietly(p.client);
    if (p.upstream != null) closeQuietly(p.upstream);
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  @Override
  public void close() {
    running = false;
    selector.wakeup();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Listener l : listeners.values()) closeQuietly(l.server);
    for (Pipe p : List.copyOf(pipes)) close(p);
    closeQuietly(selector);
  }
}
