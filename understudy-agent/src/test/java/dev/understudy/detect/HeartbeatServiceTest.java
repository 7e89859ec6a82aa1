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
