package dev.understudy.api;

import io.javalin.http.sse.SseClient;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One client of the event stream, fed by a thread of its own from a bounded queue. The agent's threads (the one that
 * tells it of every database change above all) only offer to the queue: a client that stops reading fills its queue
 * and is dropped, instead of blocking that thread on a full socket (which made its agent see healthy peers as DOWN).
 */
final class EventFeed {
  static final int QUEUE = 512;
  static final int MAX_CLIENTS = 32;
  private static final AtomicInteger open = new AtomicInteger();

  private record Item(String kind, String data, String id) {}

  /** A marker that closes the stream once everything before it is sent (a resumed stream with more to catch up). */
  private static final String END = "\u0000end";

  private final SseClient client;
  private final BlockingQueue<Item> queue = new ArrayBlockingQueue<>(QUEUE);
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Runnable onClose;

  private EventFeed(SseClient client, Runnable onClose) {
    this.client = client;
    this.onClose = onClose;
  }

  /** A feed for {@code client}, or null (and the client closed) when {@link #MAX_CLIENTS} streams are open already. */
  static EventFeed open(SseClient client, String name, Runnable onClose) {
    if (open.incrementAndGet() > MAX_CLIENTS) {
      open.decrementAndGet();
      client.sendComment("too many event streams open on this agent (" + MAX_CLIENTS + "); try again later");
      client.close();
      return null;
    }
    EventFeed f = new EventFeed(client, onClose);
    Thread t = new Thread(f::drain, "event-feed-" + name);
    t.setDaemon(true);
    t.start();
    client.onClose(f::close);
    return f;
  }

  /** Never blocks: false (and the client dropped) when the client is too far behind. A null kind sends a comment. */
  boolean offer(String kind, String data) { return offer(kind, data, null); }

  /** With the event's {@code id}, which a client that reconnects sends back (Last-Event-ID) to resume after it. */
  boolean offer(String kind, String data, String id) {
    if (closed.get()) return false;
    if (queue.offer(new Item(kind, data, id))) return true;
    close();
    return false;
  }

  /** Closes the stream after what is queued now: the client reconnects and resumes from the last id it got. */
  void endAfterQueued() { offer(END, "", null); }

  private void drain() {
    try {
      while (!closed.get()) {
        Item i = queue.poll(1, TimeUnit.SECONDS);
        if (i == null) continue;
        if (END.equals(i.kind())) break;
        if (i.kind() == null) client.sendComment(i.data());
        else if (i.id() != null) client.sendEvent(i.kind(), i.data(), i.id());
        else client.sendEvent(i.kind(), i.data());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // the client went away mid-write
    } finally {
      close();
    }
  }

  void close() {
    if (!closed.compareAndSet(false, true)) return;
    open.decrementAndGet();
    onClose.run();
    try {
      client.close();
    } catch (RuntimeException ignored) {
      // already closed
    }
  }
}
