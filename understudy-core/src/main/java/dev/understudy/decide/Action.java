package dev.understudy.decide;

import dev.understudy.model.App;
import dev.understudy.model.Event;

/** What the reconcile loop should do. Every action is idempotent or conditional, so a repeated round is harmless. */
public sealed interface Action {
  /** Start the app's process here at this epoch. */
  record Start(App app, boolean standby) implements Action {
    public Start(App app) { this(app, false); }
  }

  /** A warm-standby instance here becomes the host's instance at this epoch (this server is now the host). */
  record Promote(App app) implements Action {}

  /** Stop the local process of the app and verify it is gone. */
  record Stop(String tag, String reason) implements Action {}

  /**
   * Write {@code updated} by compare-and-set on the version it was read at. When {@code leaseServer} is set the
   * write also requires that server's lease record to be still at {@code leaseVersion}, and revokes it.
   */
  record Commit(App updated, String leaseServer, long leaseVersion, Event event) implements Action {
    public static Commit of(App updated, Event event) { return new Commit(updated, null, 0, event); }
  }

  /** Record an event without changing anything else. */
  record Notify(Event event) implements Action {}
}
