package dev.understudy.detect;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;

/**
 * Uplink check (claims 12, 43): can this server still reach its configured network resources (TCP connect)?
 * Lost when every target has failed for the timeout. No targets configured = always OK.
 */
public final class UplinkCheck {
  private final List<InetSocketAddress> targets;
  private final Duration timeout;
  private final Ticker ticker;
  private volatile long lastOkNanos;
  private volatile String lastError = "";

  public UplinkCheck(List<InetSocketAddress> targets, Duration timeout, Ticker ticker) {
    this.targets = List.copyOf(targets);
    this.timeout = timeout;
    this.ticker = ticker;
    this.lastOkNanos = ticker.nanos();
  }

  /** One round: try each target until one answers. */
  public void probe() {
    if (targets.isEmpty()) return;
    int perTarget = (int) Math.max(50, Math.min(1000, timeout.toMillis() / 2));
    for (InetSocketAddress t : targets) {
      try (Socket s = new Socket()) {
        s.connect(t, perTarget);
        lastOkNanos = ticker.nanos();
        return;
      } catch (IOException e) {
        lastError = t + ": " + e.getMessage();
      }
    }
  }

  public boolean ok() { return targets.isEmpty() || ticker.nanos() - lastOkNanos <= timeout.toNanos(); }

  public String reason() { return ok() ? null : "no uplink target answered for " + timeout.toMillis() + " ms (last: " + lastError + ")"; }
}
