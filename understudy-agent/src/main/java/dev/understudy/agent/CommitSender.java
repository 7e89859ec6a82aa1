package dev.understudy.agent;

import dev.understudy.core.Input;
import dev.understudy.decide.Action;
import dev.understudy.detect.Ticker;
import dev.understudy.model.Event;
import dev.understudy.store.Op;
import dev.understudy.store.RaftStore;
import dev.understudy.store.TxnResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a round's commits and turns their results into the core's inputs. Each commit is a compare-and-set on its own
 * app; up to {@link #COMMITS_PER_ENTRY} share a log entry, each still applied or refused on its own. One at a time, a
 * mass failover of 200 apps spent 30 s in a single round; one entry each, 1,000 apps' commits queued the lease renewals
 * behind them long enough for leases to lapse.
 */
final class CommitSender {
  private static final Logger log = LoggerFactory.getLogger(CommitSender.class);
  static final int COMMITS_PER_ENTRY = 32;
  private static final long WAIT_MILLIS = 3000;

  private final String self;
  private final RaftStore store;
  private final Metrics metrics;
  private final UnaryOperator<Event> stamp;
  private final Ticker ticker;

  CommitSender(String self, RaftStore store, Metrics metrics, UnaryOperator<Event> stamp, Ticker ticker) {
    this.self = self;
    this.store = store;
    this.metrics = metrics;
    this.stamp = stamp;
    this.ticker = ticker;
  }

  /**
   * Sends {@code commits} and waits (up to 3 s) for their results: the inputs returned are each commit's result, or
   * {@link Input.WriteUnknown} for those whose outcome is not known by then. A result that comes later goes to
   * {@code late} (the loop's inbox).
   */
  /** Fault injection: every answer is lost (a leader change, a timeout), applied or not: the outcome stays unknown. */
  private volatile boolean loseAnswers;

  void loseAnswers(boolean lose) { loseAnswers = lose; }

  boolean losingAnswers() { return loseAnswers; }

  List<Input> send(List<Action.Commit> commits, Consumer<Input> late) {
    List<Batch> batches = new ArrayList<>();
    Batch b = new Batch();
    for (Action.Commit c : commits) {
      Event ev = c.event() == null ? null : stamp.apply(c.event());
      var built = CommitOps.build(c, self, store::localGet, ev);
      if (built.isEmpty()) continue; // the replica moved on; the next round decides again from it
      b.commits.add(c);
      b.txns.add(built.get());
      if (b.txns.size() == COMMITS_PER_ENTRY) {
        batches.add(b.send());
        b = new Batch();
      }
    }
    if (!b.txns.isEmpty()) batches.add(b.send());
    if (batches.isEmpty()) return List.of();
    try {
      CompletableFuture.allOf(batches.stream().map(x -> x.results).toArray(CompletableFuture[]::new))
          .get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      log.info("some of {} commit entries have no outcome yet ({}): holding their apps' starts until the replica shows it",
          batches.size(), e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<Input> out = new ArrayList<>();
    boolean lost = loseAnswers;
    for (Batch x : batches) {
      if (lost) {
        for (Action.Commit c : x.commits) out.add(new Input.WriteUnknown(c));
        continue; // no late answer either: only the replica can tell
      }
      if (x.results.isDone() && !x.results.isCompletedExceptionally()) {
        out.addAll(x.inputs(x.results.join()));
        continue;
      }
      for (Action.Commit c : x.commits) out.add(new Input.WriteUnknown(c));
      // a late answer still settles it: applied or refused, the core learns which
      x.results.thenAccept(rs -> x.inputs(rs).forEach(late));
    }
    return out;
  }

  /** Commits that share a log entry. */
  private final class Batch {
    final List<Action.Commit> commits = new ArrayList<>();
    final List<List<Op>> txns = new ArrayList<>();
    CompletableFuture<List<TxnResult>> results;
    long sentNanos;

    Batch send() {
      sentNanos = System.nanoTime();
      results = txns.size() == 1 ? store.txnPipelined(txns.get(0)).thenApply(List::of) : store.txnBatch(txns);
      results.thenRun(() -> metrics.commitTook(Duration.ofNanos(System.nanoTime() - sentNanos)));
      return this;
    }

    List<Input> inputs(List<TxnResult> rs) {
      List<Input> out = new ArrayList<>();
      long now = ticker.nanos();
      for (int i = 0; i < commits.size(); i++) {
        TxnResult r = rs.get(i);
        if (!r.ok()) {
          log.debug("commit for {} lost a race on {} (expected {}, was {}); deciding again", commits.get(i).updated().tag(),
              r.conflictKey(), r.expectedVersion(), r.actualVersion());
        }
        out.add(new Input.WriteDone(commits.get(i), r.ok(), r.version(), r.actualVersion(), now));
      }
      return out;
    }
  }
}
