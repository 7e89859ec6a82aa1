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

  /** Format 1 is byte for byte what releases before formats send (they drop anything else). */
  @Test
  void formatOneHasNoVersionFieldAndLaterFormatsCarryTheirNumber() {
    var p = new HeartbeatPacket(false, "s2", 42, 7, 6);
    byte[] one = p.encode(KEY, 1);
    assertThat(one).isEqualTo(p.encode(KEY));
    assertThat(new String(one, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("USHB");
    byte[] two = p.encode(KEY, 2);
    assertThat(new String(two, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("USHV");
    assertThat(two[4]).isEqualTo((byte) 2);
    assertThat(HeartbeatPacket.decode(two, two.length, KEY)).contains(p);
    var renew = new HeartbeatPacket(HeartbeatPacket.Type.RENEW, "s2", 1, 2, 0, new HeartbeatPacket.Renewal(3, 4, 5));
    byte[] r = renew.encode(KEY, 2);
    assertThat(HeartbeatPacket.decode(r, r.length, KEY)).contains(renew);
  }

  @Test
  void aFormatNewerThanThisBuildReadsIsNotBelieved() {
    byte[] three = new HeartbeatPacket(true, "s2", 42, 7, 6).encode(KEY, 3);
    assertThat(HeartbeatPacket.decode(three, three.length, KEY)).isEmpty();
  }
}
