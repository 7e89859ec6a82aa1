package dev.understudy.cli;

import java.util.function.Consumer;

/** Progress lines for anything that waits: shown on a terminal, quiet otherwise. */
final class Progress {
  private Progress() {}

  static Consumer<String> printer() {
    long t0 = System.nanoTime();
    boolean tty = System.console() != null;
    return msg -> {
      if (tty) System.err.printf("  ... %s (%.1f s)%n", msg, (System.nanoTime() - t0) / 1e9);
    };
  }
}
