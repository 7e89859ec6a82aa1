package dev.understudy.agent;

import dev.understudy.decide.Action;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.Event;
import dev.understudy.model.Keys;
import dev.understudy.model.Lease;
import dev.understudy.model.Revocation;
import dev.understudy.model.Tombstone;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** The transaction a {@link Action.Commit} becomes (PROTOCOL.md R3, R5): shared by the agent and the simulation. */
public final class CommitOps {
  private CommitOps() {}

  /**
   * @param localGet this replica's view, to name the incarnation a takeover revokes
   * @return the ops, or empty when this replica no longer holds the lease record the decision rested on
   */
  public static Optional<List<Op>> build(Action.Commit c, String self, Function<String, Optional<Entry>> localGet, Event stamped) {
    List<Op> ops = new ArrayList<>();
    if (c.leaseServer() != null) {
      // the takeover holds only if the host's lease record is still the one observed expired; it revokes that lease
      String key = Keys.lease(c.leaseServer());
      ops.add(Op.check(key, c.leaseVersion()));
      if (c.leaseVersion() != 0) {
        long inc = localGet.apply(key).filter(e -> e.version() == c.leaseVersion())
            .map(e -> Json.read(e.value(), Lease.class).incarnation()).orElse(-1L);
        if (inc < 0) return Optional.empty();
        ops.add(Op.put(Keys.revocation(c.leaseServer()), Json.write(new Revocation(c.leaseServer(), inc, self))));
      }
    }
    App app = c.updated();
    if (app.state() == AppState.REMOVED) { // the object goes; its epoch stays behind for a re-added tag
      ops.add(Op.delete(Keys.app(app.tag()), app.version()));
      ops.add(Op.delete(Keys.marker(app.tag())));
      ops.add(Op.put(Keys.tombstone(app.tag()), Json.write(new Tombstone(app.tag(), app.epoch()))));
    } else {
      ops.add(Op.put(Keys.app(app.tag()), Json.write(app.withVersion(0)), app.version()));
    }
    if (stamped != null) ops.add(Op.put(Keys.event(stamped.timeMillis(), stamped.id()), Json.write(stamped)));
    return Optional.of(ops);
  }
}
