package dev.understudy.detect;

import dev.understudy.decide.DiskState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Disk pulse (claims 13, 44; FIG. 7A 800-808): a file on storage every server reaches; each server owns one fixed
 * 128-byte slot (its place in the membership order) and writes a changing counter there synchronously. Readers
 * track when each slot's counter last changed. A torn or foreign slot is reported and is no evidence of life.
 */
public final class DiskPulse implements AutoCloseable {
  public static final int SLOT = 128;
  private static final int MAGIC = 0x55534450; // "USDP"
  private static final Logger log = LoggerFactory.getLogger(DiskPulse.class);

  public enum State { RUNNING, FENCED }

  public record Slot(String server, long counter, long wallMillis, State state) {}

  private record Seen(long counter, long changedNanos, State state, boolean valid) {}

  private final FileChannel channel;
  private volatile List<String> servers;
  private final String self;
  private final Ticker ticker;
  private final Map<String, Seen> seen = new ConcurrentHashMap<>();
  private final Map<String, Long> badReads = new ConcurrentHashMap<>();
  private long counter;
  private volatile boolean frozen;

  public DiskPulse(Path file, List<String> sortedServers, String self, Ticker ticker) throws IOException {
    this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
        StandardOpenOption.DSYNC);
    this.servers = List.copyOf(sortedServers);
    this.self = self;
    this.ticker = ticker;
    this.counter = ticker.nanos(); // differs across restarts, so a restarted agent's first beat counts as a change
  }

  /** Membership changed: servers keep their slots; added ones get the next. */
  public void setServers(List<String> ordered) { servers = List.copyOf(ordered); }

  /** Writes this server's slot (O_DSYNC). Skipped while frozen by fault injection. */
  public synchronized void beat(State state) throws IOException {
    injected();
    if (frozen) return;
    counter++;
    channel.write(ByteBuffer.wrap(encode(new Slot(self, counter, System.currentTimeMillis(), state))),
        (long) servers.indexOf(self) * SLOT);
  }

  /** Reads every other server's slot and notes counter changes. */
  public void readAll() throws IOException {
    injected();
    long now = ticker.nanos();
    for (int i = 0; i < servers.size(); i++) {
      String id = servers.get(i);
      if (id.equals(self)) continue;
      ByteBuffer buf = ByteBuffer.allocate(SLOT);
      channel.read(buf, (long) i * SLOT);
      Slot s = decode(buf.array(), id);
      Seen prev = seen.get(id);
      if (s == null) {
        badReads.merge(id, 1L, Long::sum);
        if (prev == null || prev.valid()) log.warn("disk pulse slot of {} is torn or foreign: no evidence of life", id);
        seen.put(id, new Seen(prev == null ? 0 : prev.counter(), prev == null ? now : prev.changedNanos(), State.RUNNING, false));
      } else if (prev == null) {
        seen.put(id, new Seen(s.counter(), now, s.state(), true)); // first sight: alive until it proves stale
      } else if (s.counter() != prev.counter() || !prev.valid()) {
        seen.put(id, new Seen(s.counter(), now, s.state(), true));
      } else if (s.state() != prev.state()) {
        seen.put(id, new Seen(s.counter(), prev.changedNanos(), s.state(), true));
      }
    }
  }

  public DiskState state(String server, long timeoutNanos) {
    Seen s = seen.get(server);
    if (s == null || !s.valid()) return DiskState.STALE;
    if (s.state() == State.FENCED) return DiskState.FENCED;
    return ticker.nanos() - s.changedNanos() > timeoutNanos ? DiskState.STALE : DiskState.ALIVE;
  }

  public void setFrozen(boolean f) { frozen = f; }

  private volatile boolean hung;
  private volatile boolean failing;

  /** Fault injection: every read and write hangs (storage gone, a hard NFS mount) until released. */
  public void setHung(boolean h) { hung = h; }

  /** Fault injection: every read and write fails with an I/O error. */
  public void setFailing(boolean f) { failing = f; }

  private void injected() throws IOException {
    while (hung) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("disk-pulse I/O interrupted");
      }
    }
    if (failing) throw new IOException("injected disk-pulse I/O error");
  }

  public boolean frozen() { return frozen; }

  /** Fault injection: overwrite this server's slot with garbage. */
  public synchronized void corruptOwnSlot() throws IOException {
    byte[] junk = new byte[SLOT];
    new java.util.Random().nextBytes(junk);
    channel.write(ByteBuffer.wrap(junk), (long) servers.indexOf(self) * SLOT);
  }

  static byte[] encode(Slot s) {
    byte[] id = s.server().getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(SLOT);
    b.putInt(MAGIC).put((byte) 1).put((byte) s.state().ordinal()).put((byte) id.length).put(id);
    b.putLong(s.counter()).putLong(s.wallMillis());
    CRC32 crc = new CRC32();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.array();
  }

  static Slot decode(byte[] d, String expectedServer) {
    ByteBuffer b = ByteBuffer.wrap(d);
    if (b.getInt() != MAGIC || b.get() != 1) return null;
    int st = b.get();
    int idLen = b.get() & 0xff;
    if (st < 0 || st > 1 || idLen == 0 || idLen > 64) return null;
    byte[] id = new byte[idLen];
    b.get(id);
    long counter = b.getLong();
    long wall = b.getLong();
    CRC32 crc = new CRC32();
    crc.update(d, 0, b.position());
    if (b.getInt() != (int) crc.getValue()) return null;
    String server = new String(id, StandardCharsets.UTF_8);
    if (!server.equals(expectedServer)) return null;
    return new Slot(server, counter, wall, State.values()[st]);
  }

  @Override
  public void close() throws IOException { channel.close(); }
}
