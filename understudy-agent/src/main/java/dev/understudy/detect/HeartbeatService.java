package dev.understudy.detect;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LAN heartbeat (claims 11, 42): a UDP probe to every peer each interval; a peer whose acks have been missing for
 * the timeout is LAN-lost. Packets are authenticated (HMAC) and replay-checked per sender (incarnation, sequence).
 * Since every agent probes every other, the ack rides on the peer's own probe: each probe echoes the newest sequence
 * number heard from the peer it goes to, and an echo of one of ours that is newer than the last counts as an ack (the
 * peer is alive and hears us). One packet each way per interval instead of two: an idle agent's heartbeat thread
 * was mostly woken by packets. A probe that echoes nothing (a peer that has not heard from us yet, or an agent of an
 * earlier version) is answered with an ack packet, as before.
 */
public final class HeartbeatService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HeartbeatService.class);

  private record SenderState(long incarnation, long seq) {}

  private final String self;
  private final long incarnation;
  private final byte[] secret;
  private volatile Map<String, InetSocketAddress> peers;
  private final Duration interval;
  private final Ticker ticker;
  private final DatagramSocket socket;
  private final AtomicLong seq = new AtomicLong();
  private final Map<String, Long> lastAck = new ConcurrentHashMap<>();
  private final Map<String, SenderState> lastFrom = new ConcurrentHashMap<>();
  /** The newest of our sequence numbers each peer has echoed. */
  private final Map<String, Long> echoed = new ConcurrentHashMap<>();
  private final Set<String> dropped = ConcurrentHashMap.newKeySet();
  private final AtomicLong rejected = new AtomicLong();
  private final ScheduledExecutorService timer;
  private final Thread receiver;
  /** The peers' addresses: a packet from any other source is dropped unread (each peer sends from its bound address). */
  private volatile java.util.Set<java.net.InetAddress> peerHosts;
  private volatile boolean closed;
  private volatile java.util.function.BiConsumer<String, HeartbeatPacket.Renewal> renewals;

  public HeartbeatService(String self, InetSocketAddress bind, Map<String, InetSocketAddress> peers, byte[] secret,
                          Duration interval, Ticker ticker) throws SocketException {
    this(self, bind, peers, secret, interval, ticker, System.currentTimeMillis());
  }

  /** {@code incarnation}: must grow across restarts of this agent (peers drop packets of an older one as replays). */
  public HeartbeatService(String self, InetSocketAddress bind, Map<String, InetSocketAddress> peers, byte[] secret,
                          Duration interval, Ticker ticker, long incarnation) throws SocketException {
    this.self = self;
    this.incarnation = incarnation;
    this.secret = secret.clone();
    this.peers = Map.copyOf(peers);
    this.interval = interval;
    this.ticker = ticker;
    this.socket = new DatagramSocket(bind);
    // room for a burst: a flood of junk fills the default buffer and the peers' heartbeats behind it are dropped
    this.socket.setReceiveBufferSize(1 << 20);
    this.peerHosts = hostsOf(this.peers);
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "heartbeat-send"));
    this.receiver = daemon(this::receiveLoop, "heartbeat-recv");
  }

  private static java.util.Set<java.net.InetAddress> hostsOf(Map<String, InetSocketAddress> peers) {
    return peers.values().stream().map(InetSocketAddress::getAddress).filter(java.util.Objects::nonNull)
        .collect(java.util.stream.Collectors.toUnmodifiableSet());
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  public void start() {
    receiver.start();
    timer.scheduleAtFixedRate(this::probeAll, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void probeAll() {
    for (var e : peers.entrySet()) {
      if (e.getKey().equals(self) || dropped.contains(e.getKey())) continue;
      SenderState heard = lastFrom.get(e.getKey());
      sendNext(n -> new HeartbeatPacket(false, self, incarnation, n, heard == null ? 0 : heard.seq()), e.getValue());
    }
  }

  private volatile int format = 1;

  /** Packets go out in the cluster's format from now on (format 1 until every member reads a newer one). */
  public void format(int f) { format = f; }

  private final Object sending = new Object();

  /**
   * Numbers a packet and sends it as one step. Probes, acks and renewal requests go out from three threads: one that
   * took a lower number but reached the socket second was dropped by the peer as a replay (a renewal request lost).
   */
  private void sendNext(java.util.function.LongFunction<HeartbeatPacket> packet, InetSocketAddress to) {
    synchronized (sending) {
      send(packet.apply(seq.incrementAndGet()), to);
    }
  }

  private void send(HeartbeatPacket p, InetSocketAddress to) {
    byte[] data = p.encode(secret, format);
    try {
      socket.send(new DatagramPacket(data, data.length, to));
    } catch (IOException e) {
      if (!closed) log.debug("heartbeat to {} failed: {}", to, e.toString());
    }
  }

  private void receiveLoop() {
    byte[] buf = new byte[512];
    while (!closed) {
      DatagramPacket dp = new DatagramPacket(buf, buf.length);
      try {
        socket.receive(dp);
      } catch (IOException e) {
        if (!closed) log.warn("heartbeat receive failed", e);
        continue;
      }
      if (!peerHosts.contains(dp.getAddress())) { // not from a peer's address: dropped before any work on it
        rejected.incrementAndGet();
        continue;
      }
      var decoded = HeartbeatPacket.decode(dp.getData(), dp.getLength(), secret);
      if (decoded.isEmpty() || !accept(decoded.get())) {
        rejected.incrementAndGet();
        continue;
      }
      HeartbeatPacket p = decoded.get();
      if (dropped.contains(p.sender())) continue;
      if (p.type() == HeartbeatPacket.Type.RENEW) {
        var listener = renewals;
        if (listener != null) listener.accept(p.sender(), p.renewal());
      } else if (p.ack()) {
        lastAck.put(p.sender(), ticker.nanos());
      } else if (p.echo() == 0) {
        InetSocketAddress back = peers.get(p.sender());
        if (back != null) sendNext(n -> new HeartbeatPacket(true, self, incarnation, n, p.seq()), back);
      } else if (p.echo() <= seq.get() && p.echo() > echoed.getOrDefault(p.sender(), 0L)) {
        // an echo above our counter is of an earlier incarnation of ours; one not newer than the last proves nothing new
        echoed.put(p.sender(), p.echo());
        lastAck.put(p.sender(), ticker.nanos());
      }
    }
  }

  /** Known sender, not from an older incarnation, and a sequence number never seen before: else a forgery or replay. */
  private boolean accept(HeartbeatPacket p) {
    if (!peers.containsKey(p.sender()) || p.sender().equals(self)) return false;
    SenderState prev = lastFrom.get(p.sender());
    if (prev != null) {
      if (p.incarnation() < prev.incarnation()) return false;
      if (p.incarnation() == prev.incarnation() && p.seq() <= prev.seq()) return false;
    }
    lastFrom.put(p.sender(), new SenderState(p.incarnation(), p.seq()));
    return true;
  }

  /**
   * Sends this server's lease renewal request to {@code peer} (the Raft leader's agent), authenticated like a
   * heartbeat. False when the peer is unknown or dropped by fault injection: the caller renews directly instead.
   */
  public boolean sendRenewal(String peer, HeartbeatPacket.Renewal r) {
    InetSocketAddress to = peers.get(peer);
    if (to == null || peer.equals(self) || dropped.contains(peer)) return false;
    sendNext(n -> new HeartbeatPacket(HeartbeatPacket.Type.RENEW, self, incarnation, n, 0, r), to);
    return true;
  }

  /** Receives every authentic, fresh renewal request (sender, request), on the receiving thread: must not block. */
  public void onRenewal(java.util.function.BiConsumer<String, HeartbeatPacket.Renewal> listener) { this.renewals = listener; }

  /** Ticker time of the last ack from the peer, or empty if none since start. */
  public Long lastAckNanos(String peer) { return lastAck.get(peer); }

  /** "Doubt yourself first": after this agent was paused, give every peer a fresh start instead of accusing it. */
  public void forgiveAll() {
    long now = ticker.nanos();
    for (String p : peers.keySet()) if (!p.equals(self)) lastAck.put(p, now);
  }

  public long rejectedPackets() { return rejected.get(); }

  /** Membership changed: probe these servers from now on. */
  public void setPeers(Map<String, InetSocketAddress> newPeers) {
    if (!newPeers.equals(peers)) {
      peers = Map.copyOf(newPeers);
      peerHosts = hostsOf(peers);
    }
  }

  /** Fault injection: drop all heartbeat traffic to and from these peers. */
  public void setDropped(Set<String> peersToDrop) {
    dropped.clear();
    dropped.addAll(peersToDrop);
  }

  public Set<String> dropped() { return Set.copyOf(dropped); }

  @Override
  public void close() {
    closed = true;
    timer.shutdownNow();
    socket.close();
  }
}
