package dev.understudy.agent;

import dev.understudy.model.Event;
import dev.understudy.model.Keys;
import dev.understudy.store.Json;
import dev.understudy.store.Op;
import dev.understudy.store.RaftStore;
import dev.understudy.store.StoreUnavailableException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records events in the cluster database from one background thread, as many as are waiting (up to
 * {@link #PER_ENTRY}) in one log entry. Best effort, like every event write: a database that cannot be reached loses
 * the event from the database (the agent's log still has it). A mass failover emits an event or two per app; one
 * entry each, they queued ahead of the lease renewals that must not wait.
 */
final class EventWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventWriter.class);
  static final int PER_ENTRY = 64;
  private final RaftStore store;
  private final BlockingQueue<Event> queue = new LinkedBlockingQueue<>(20_000);
  private final Thread thread;
  private volatile boolean running = true;
  /** Queued by close, so that a writer waiting for events looks at {@code running} again; never written. */
  private static final Event WAKE = new Event("wake", 0, "WAKE", "", null, "", java.util.Map.of());

  EventWriter(RaftStore store) {
    this.store = store;
    this.thread = new Thread(this::run, "event-writer");
    thread.setDaemon(true);
    thread.start();
  }

  void write(Event e) {
    if (!queue.offer(e)) log.warn("event queue full: {} not recorded in the database", e.id());
  }

  private void run() {
    while (running || !queue.isEmpty()) {
      List<Event> batch = new ArrayList<>();
      try {
        Event first = queue.take(); // no polling: an idle agent's writer sleeps until an event, or close's wake-up
        if (first != WAKE) batch.add(first);
      } catch (InterruptedException e) {
        return;
      }
      queue.drainTo(batch, PER_ENTRY - 1);
      batch.removeIf(e -> e == WAKE);
      if (batch.isEmpty()) continue;
      List<Op> puts = new ArrayList<>(batch.size());
      for (Event e : batch) puts.add(Op.put(Keys.event(e.timeMillis(), e.id()), Json.write(e)));
      try {
        // one entry in flight at a time: what arrives meanwhile goes into the next, larger entry
        store.txnPipelined(puts).get(10, TimeUnit.SECONDS);
      } catch (StoreUnavailableException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        log.debug("{} events not recorded in the database: {}", batch.size(), e.toString());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Writes what is still queued (an agent's last events, such as its apps stopping), for up to 2 s, then stops. */
  @Override
  public void close() {
    running = false;
    queue.offer(WAKE);
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    thread.interrupt();
  }
}
