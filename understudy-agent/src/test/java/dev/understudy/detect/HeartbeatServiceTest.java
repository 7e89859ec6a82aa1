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
}
