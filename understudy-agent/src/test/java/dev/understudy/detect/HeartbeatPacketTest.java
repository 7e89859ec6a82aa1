package dev.understudy.detect;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HeartbeatPacketTest {
  static final byte[] KEY = "0123456789abcdef-secret".getBytes(StandardCharsets.UTF_8);

  @Test
  void roundTrip() {
    var p = new HeartbeatPacket(true, "s2", 42, 7, 6);
    byte[] d = p.encode(KEY);
    assertThat(HeartbeatPacket.decode(d, d.length, KEY)).contains(p);
  }

  @Test
  void wrongKeyIsRejected() {
    byte[] d = new HeartbeatPacket(false, "s2", 1, 1, 0).encode("another-cluster-secret!".getBytes(StandardCharsets.UTF_8));
    assertThat(HeartbeatPacket.decode(d, d.length, KEY)).isEmpty();
  }

  @Test
  void anyFlippedBitIsRejected() {
    byte[] d = new HeartbeatPacket(false, "s2", 1, 1, 0).encode(KEY);
    for (int i = 0; i < d.length; i++) {
      for (int bit = 0; bit < 8; bit++) {
        byte[] t = d.clone();
        t[i] ^= (byte) (1 << bit);
        assertThat(HeartbeatPacket.decode(t, t.length, KEY)).as("byte %d bit %d", i, bit).isEmpty();
      }
    }
  }

  @Test
  void truncatedAndGarbageAreRejected() {
    byte[] d = new HeartbeatPacket(false, "s2", 1, 1, 0).encode(KEY);
    assertThat(HeartbeatPacket.decode(d, d.length - 1, KEY)).isEmpty();
    assertThat(HeartbeatPacket.decode(new byte[3], 3, KEY)).isEmpty();
    assertThat(HeartbeatPacket.decode(new byte[200], 200, KEY)).isEmpty();
  }
}
