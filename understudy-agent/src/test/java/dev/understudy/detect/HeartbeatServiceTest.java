package dev.understudy.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Real UDP on loopback between two heartbeat services. */
class HeartbeatServiceTest {
  static final byte[] KEY = "0123456789abcdef-secret".getBytes(StandardCharsets.UTF_8);
  final InetSocketAddress a = new InetSocketAddress("127.0.0.21", dev.understudy.testing.Ports.freeUdp("127.0.0.21"));
  final InetSocketAddress b = new InetSocketAddress("127.0.0.22", dev.understudy.testing.Ports.freeUdp("127.0.0.22"));
  HeartbeatService ha;
  HeartbeatService hb;

  void start() throws Exception {
    Map<String, InetSocketAddress> peers = Map.of("a", a, "b", b);
    ha = new HeartbeatService("a", a, peers, KEY, Duration.ofMillis(20), Ticker.SYSTEM);
    hb = new HeartbeatService("b", b, peers, KEY, Duration.ofMillis(20), Ticker.SYSTEM);
    ha.start();
    hb.start();
  }

  @AfterEach
  void close() {
    if (ha != null) ha.close();
    if (hb != null) hb.close();
  }

  boolean recentAck(HeartbeatService h, String peer, long withinMs) {
    Long t = h.lastAckNanos(peer);
    return t != null && System.nanoTime() - t < withinMs * 1_000_000;
  }

  @Test
  void peersAckEachOther() throws Exception {
    start();
    await().atMost(Duration.ofSeconds(5)).until(() -> recentAck(ha, "b", 100) && recentAck(hb, "a", 100));
  }

  /**
   * #21 reported that a flood of unauthenticated UDP on the heartbeat port could make an agent see a live peer's LAN as
   * lost. Junk from elsewhere and forgeries naming a peer are thrown at a while a and b probe each other every 20 ms:
   * a's view of b never goes 300 ms without an ack. (It held before the source check and the larger buffer too: about
   * 140,000 packets a second from one sender, longest gap 99 ms; with them 190,000 a second, 162 ms.)
   */
  @Test
  void aFloodOfJunkAndForgeriesLosesNoHeartbeat() throws Exception {
    start();
    await().atMost(Duration.ofSeconds(5)).until(() -> recentAck(ha, "b", 100) && recentAck(hb, "a", 100));
    java.util.concurrent.atomic.AtomicBoolean flooding = new java.util.concurrent.atomic.AtomicBoolean(true);
    java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
    Thread flooder = new Thread(() -> {
      byte[] forged = new HeartbeatPacket(false, "b", 1, 1, 0).encode("not-the-secret-at-all".getBytes(StandardCharsets.UTF_8));
      byte[] junk = new byte[200];
      try (DatagramSocket fromElsewhere = new DatagramSocket(new InetSocketAddress("127.0.0.99", 0));
           DatagramSocket fromB = new DatagramSocket(new InetSocketAddress(b.getAddress(), 0))) { // b's address, another port
        while (flooding.get()) {
          fromElsewhere.send(new DatagramPacket(junk, junk.length, a));
          fromB.send(new DatagramPacket(forged, forged.length, a));
          sent.addAndGet(2);
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, "flooder");
    flooder.start();
    long worstGapMs = 0;
    long end = System.nanoTime() + 3_000_000_000L;
    try {
      while (System.nanoTime() < end) {
        Long t = ha.lastAckNanos("b");
        worstGapMs = Math.max(worstGapMs, (System.nanoTime() - t) / 1_000_000);
        await().pollDelay(Duration.ofMillis(5)).until(() -> true);
      }
    } finally {
      flooding.set(false);
      flooder.join();
    }
    assertThat(sent.get()).as("packets thrown at a").isGreaterThan(10_000);
    assertThat(worstGapMs).as("longest time a went without hearing from b, ms").isLessThan(300);
  }

  @Test
  void droppedHeartbeatsStopTheAcks() throws Exception {
    start();
    await().atMost(Duration.ofSeconds(5)).until(() -> recentAck(ha, "b", 100));
    ha.setDropped(Set.of("b"));
    await().atMost(Duration.ofSeconds(5)).until(() -> !recentAck(ha, "b", 200));
    ha.setDropped(Set.of());
    await().atMost(Duration.ofSeconds(5)).until(() -> recentAck(ha, "b", 100));
  }

  @Test
  void theAckRidesOnThePeersProbeAndAStaleEchoIsNoAck() throws Exception {
    Map<String, InetSocketAddress> peers = Map.of("a", a, "b", b);
    ha = new HeartbeatService("a", a, peers, KEY, Duration.ofMillis(20), Ticker.SYSTEM);
    ha.start();
    try (DatagramSocket fakeB = new DatagramSocket(b)) { // b, by hand: it hears a's probes, then stops hearing them
      fakeB.setSoTimeout(2000);
      DatagramPacket dp = new DatagramPacket(new byte[512], 512);
      fakeB.receive(dp);
      HeartbeatPacket probe = HeartbeatPacket.decode(dp.getData(), dp.getLength(), KEY).orElseThrow();
      long seq = 1;
      byte[] echoing = new HeartbeatPacket(false, "b", 1, seq++, probe.seq()).encode(KEY);
      fakeB.send(new DatagramPacket(echoing, echoing.length, a));
      await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(2)).until(() -> recentAck(ha, "b", 100));
      // b's probes keep coming, fresh, but echo the same old probe of a's: b no longer hears a
      Long acked = ha.lastAckNanos("b");
      long before = ha.rejectedPackets();
      for (int i = 0; i < 15; i++) {
        byte[] stale = new HeartbeatPacket(false, "b", 1, seq++, probe.seq()).encode(KEY);
        fakeB.send(new DatagramPacket(stale, stale.length, a));
      }
      // a replayed packet after them: once a has counted it as rejected, it has read every probe before it
      byte[] marker = new HeartbeatPacket(true, "b", 1, 1, 0).encode(KEY);
      fakeB.send(new DatagramPacket(marker, marker.length, a));
      await().atMost(Duration.ofSeconds(2)).until(() -> ha.rejectedPackets() > before);
      assertThat(ha.lastAckNanos("b")).as("a probe echoing nothing new is no ack").isEqualTo(acked);
      Long lastAck = ha.lastAckNanos("b");
      long rejected = ha.rejectedPackets();
      byte[] ahead = new HeartbeatPacket(false, "b", 1, seq++, Long.MAX_VALUE / 2).encode(KEY);
      fakeB.send(new DatagramPacket(ahead, ahead.length, a));
      fakeB.send(new DatagramPacket(marker, marker.length, a)); // read past `ahead` once rejected
      await().atMost(Duration.ofSeconds(2)).until(() -> ha.rejectedPackets() > rejected);
      assertThat(ha.lastAckNanos("b")).as("an echo of a sequence a never sent (an earlier incarnation's) is no ack").isEqualTo(lastAck);
      fakeB.receive(dp);
      long newest = HeartbeatPacket.decode(dp.getData(), dp.getLength(), KEY).orElseThrow().seq();
      byte[] fresh = new HeartbeatPacket(false, "b", 1, seq++, newest).encode(KEY);
      fakeB.send(new DatagramPacket(fresh, fresh.length, a));
      await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(2)).until(() -> recentAck(ha, "b", 100));
    }
  }

  @Test
  void forgedAndReplayedPacketsAreRejectedAndCounted() throws Exception {
    start();
    await().atMost(Duration.ofSeconds(5)).until(() -> recentAck(ha, "b", 100));
    hb.close(); // b is gone; an attacker pretends to be b
    hb = null;
    try (DatagramSocket attacker = new DatagramSocket(new InetSocketAddress("127.0.0.23", 0))) {
      long before = ha.rejectedPackets();
      byte[] forged = new HeartbeatPacket(true, "b", Long.MAX_VALUE, 1, 1).encode("wrong-key-wrong-key".getBytes(StandardCharsets.UTF_8));
      // a genuine-looking ack with the right key but an old sequence: a replay
      byte[] replay = new HeartbeatPacket(true, "b", 1, 1, 1).encode(KEY);
      Thread.sleep(300);
      for (int i = 0; i < 20; i++) {
        attacker.send(new DatagramPacket(forged, forged.length, a));
        attacker.send(new DatagramPacket(replay, replay.length, a));
        Thread.sleep(10);
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> ha.rejectedPackets() >= before + 40);
      assertThat(recentAck(ha, "b", 150)).as("no forged or replayed ack is believed").isFalse();
    }
  }

  /**
   * A renewal request and a probe sent at once by two threads of the same agent: each takes the next sequence number,
   * and one that took the lower number but reached the socket second was rejected as a replay. A lost renewal request
   * costs its sender a lease round (CI saw the first request of the test below go missing).
   */
  @Test
  void renewalRequestsSentWhileProbesGoOutAreNeverTakenForReplays() throws Exception {
    start();
    java.util.concurrent.atomic.AtomicInteger passed = new java.util.concurrent.atomic.AtomicInteger();
    ha.onRenewal((sender, r) -> passed.incrementAndGet());
    await().atMost(Duration.ofSeconds(5)).until(() -> recentAck(ha, "b", 100));
    long before = ha.rejectedPackets();
    Thread[] senders = new Thread[2];
    for (int t = 0; t < senders.length; t++) {
      int id = t;
      senders[t] = new Thread(() -> {
        for (int i = 0; i < 3000; i++) hb.sendRenewal("a", new HeartbeatPacket.Renewal(7, id * 10_000L + i, 0));
      });
      senders[t].start();
    }
    for (Thread t : senders) t.join();
    await().atMost(Duration.ofSeconds(5)).until(() -> passed.get() > 0);
    assertThat(ha.rejectedPackets() - before).as("packets of b's taken for replays (%d of 6000 requests passed on)", passed.get())
        .isZero();
  }

  @Test
  void aRenewalRequestIsPassedOnOnceAndNeverWhenForgedOrReplayed() throws Exception {
    start();
    java.util.List<HeartbeatPacket.Renewal> passed = new java.util.concurrent.CopyOnWriteArrayList<>();
    ha.onRenewal((sender, r) -> passed.add(r));
    assertThat(hb.sendRenewal("a", new HeartbeatPacket.Renewal(7, 1, 0))).isTrue();
    await().atMost(Duration.ofSeconds(5)).until(() -> passed.size() == 1);
    hb.close(); // b is gone; an attacker replays and forges b's requests from b's address
    hb = null;
    try (DatagramSocket attacker = new DatagramSocket(new InetSocketAddress("127.0.0.22", 0))) {
      var genuine = new HeartbeatPacket(HeartbeatPacket.Type.RENEW, "b", Long.MAX_VALUE - 1, 1, 0, new HeartbeatPacket.Renewal(7, 2, 0));
      byte[] once = genuine.encode(KEY);
      byte[] forged = new HeartbeatPacket(HeartbeatPacket.Type.RENEW, "b", Long.MAX_VALUE, 5, 0, new HeartbeatPacket.Renewal(7, 99, 0))
          .encode("wrong-key-wrong-key".getBytes(StandardCharsets.UTF_8));
      byte[] stranger = new HeartbeatPacket(HeartbeatPacket.Type.RENEW, "mallory", 1, 1, 0, new HeartbeatPacket.Renewal(1, 1, 0)).encode(KEY);
      long before = ha.rejectedPackets();
      for (int i = 0; i < 200; i++) {
        attacker.send(new DatagramPacket(once, once.length, a));
        attacker.send(new DatagramPacket(forged, forged.length, a));
        attacker.send(new DatagramPacket(stranger, stranger.length, a));
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> ha.rejectedPackets() >= before + 599);
      assertThat(passed).as("the first copy only; no forgery, no stranger").hasSize(2);
      assertThat(passed.get(1)).isEqualTo(genuine.renewal());
    }
  }
}
