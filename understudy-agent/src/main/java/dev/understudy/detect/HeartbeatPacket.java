package dev.understudy.detect;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A LAN heartbeat probe or ack, or a lease renewal request for the Raft leader's agent: magic (and, from format 2, the
 * format's number), type, sender id,
 * incarnation, sequence, echoed sequence, for a renewal request the lease's incarnation, sequence and revocation
 * version, then an HMAC-SHA256 (truncated to 16 bytes) of everything before it under the cluster secret.
 * {@code incarnation} and {@code seq} are the heartbeat service's own (they make replays detectable); {@code renewal}
 * is null unless the type is {@link Type#RENEW}.
 */
public record HeartbeatPacket(Type type, String sender, long incarnation, long seq, long echo, Renewal renewal) {
  private static final int MAGIC = 0x55534842; // "USHB": format 1, which has no version field
  private static final int MAGIC_VERSIONED = 0x55534856; // "USHV", then the format's number in one byte
  private static final int MAC_LEN = 16;

  public enum Type { PROBE, ACK, RENEW }

  /** "Write my lease record as (incarnation, seq) if my revocation record is still at revocationVersion." */
  public record Renewal(long leaseIncarnation, long leaseSeq, long revocationVersion) {}

  public HeartbeatPacket(boolean ack, String sender, long incarnation, long seq, long echo) {
    this(ack ? Type.ACK : Type.PROBE, sender, incarnation, seq, echo, null);
  }

  public HeartbeatPacket {
    if ((type == Type.RENEW) != (renewal != null)) throw new IllegalArgumentException("a renewal request, and only one, carries a renewal");
  }

  public boolean ack() { return type == Type.ACK; }

  public byte[] encode(byte[] secret) { return encode(secret, 1); }

  /**
   * In the cluster's {@link dev.understudy.model.Formats format}: format 1 as releases before formats wrote it (they drop
   * anything else), later ones with their number after a magic of their own.
   */
  public byte[] encode(byte[] secret, int format) {
    byte[] id = sender.getBytes(StandardCharsets.UTF_8);
    int v = format <= 1 ? 0 : 1;
    ByteBuffer b = ByteBuffer.allocate(4 + v + 1 + 1 + id.length + 24 + (renewal != null ? 24 : 0) + MAC_LEN);
    if (v == 0) b.putInt(MAGIC);
    else b.putInt(MAGIC_VERSIONED).put((byte) format);
    b.put((byte) type.ordinal()).put((byte) id.length).put(id).putLong(incarnation).putLong(seq).putLong(echo);
    if (renewal != null) b.putLong(renewal.leaseIncarnation()).putLong(renewal.leaseSeq()).putLong(renewal.revocationVersion());
    byte[] mac = mac(secret, b.array(), b.position());
    b.put(mac, 0, MAC_LEN);
    return b.array();
  }

  /** Empty when the packet is malformed or its HMAC does not verify: never believed. */
  public static Optional<HeartbeatPacket> decode(byte[] data, int len, byte[] secret) {
    try {
      if (len < 4 + 1 + 1 + 24 + MAC_LEN) return Optional.empty();
      ByteBuffer b = ByteBuffer.wrap(data, 0, len);
      int magic = b.getInt();
      int v = 0;
      if (magic == MAGIC_VERSIONED) {
        int format = b.get() & 0xff;
        // a format this build does not read is not believed (its agent refuses to run in such a cluster anyway)
        if (format < 2 || format > dev.understudy.model.Formats.NEWEST) return Optional.empty();
        v = 1;
      } else if (magic != MAGIC) {
        return Optional.empty();
      }
      int t = b.get();
      if (t < 0 || t >= TYPES.length) return Optional.empty();
      Type type = TYPES[t];
      int idLen = b.get() & 0xff;
      if (idLen == 0 || len != 4 + v + 1 + 1 + idLen + 24 + (type == Type.RENEW ? 24 : 0) + MAC_LEN) return Optional.empty();
      byte[] id = new byte[idLen];
      b.get(id);
      long inc = b.getLong();
      long seq = b.getLong();
      long echo = b.getLong();
      Renewal renewal = type == Type.RENEW ? new Renewal(b.getLong(), b.getLong(), b.getLong()) : null;
      byte[] expected = mac(secret, data, b.position());
      byte[] got = new byte[MAC_LEN];
      b.get(got);
      byte[] exp16 = java.util.Arrays.copyOf(expected, MAC_LEN);
      if (!MessageDigest.isEqual(exp16, got)) return Optional.empty();
      return Optional.of(new HeartbeatPacket(type, new String(id, StandardCharsets.UTF_8), inc, seq, echo, renewal));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  private static final Type[] TYPES = Type.values();

  /** Keyed once per thread and secret: looking up and keying a Mac per packet was most of a heartbeat's CPU. */
  private record KeyedMac(byte[] secret, Mac mac) {}

  private static final ThreadLocal<KeyedMac> MACS = new ThreadLocal<>();

  private static byte[] mac(byte[] secret, byte[] data, int len) {
    KeyedMac k = MACS.get();
    if (k == null || !java.util.Arrays.equals(k.secret(), secret)) {
      try {
        Mac m = Mac.getInstance("HmacSHA256");
        m.init(new SecretKeySpec(secret, "HmacSHA256"));
        k = new KeyedMac(secret.clone(), m);
        MACS.set(k);
      } catch (NoSuchAlgorithmException | InvalidKeyException e) {
        throw new IllegalStateException(e);
      }
    }
    k.mac().update(data, 0, len);
    return k.mac().doFinal(); // doFinal resets the Mac for the next packet, keeping its key
  }
}
