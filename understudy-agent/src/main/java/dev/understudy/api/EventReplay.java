package dev.understudy.api;

import dev.understudy.model.Event;
import dev.understudy.model.Keys;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import dev.understudy.store.Store;
import java.util.HashSet;
import java.util.Set;

/**
 * Resuming the event stream without loss: each event is sent with its database key (less the prefix) as its id, and
 * a client that reconnects with {@code Last-Event-ID} (as a browser's EventSource does by itself) or {@code ?after=ID}
 * first gets every stored event after it, in key order (the raising agent's clock), then the live ones as this replica
 * applies them, none twice.
 */
final class EventReplay {
  /** At most this many stored events per connection; with more behind, the stream ends and the client resumes. */
  static final int MAX = EventFeed.QUEUE / 2;

  private final EventFeed feed;
  private final String after;
  /** Ids sent while the replay is under way, so an event both stored and applied meanwhile goes once. */
  private final Set<String> sent = new HashSet<>();
  private boolean replayed;

  EventReplay(EventFeed feed, String after) {
    this.feed = feed;
    this.after = after;
    this.replayed = after == null;
  }

  static String id(Event e) { return Keys.eventStreamId(e.timeMillis(), e.id()); }

  /** A live event. Called on the agent's database-watch thread; never blocks longer than a replay. */
  synchronized void live(Event e) {
    String id = id(e);
    if (!replayed && !sent.add(id)) return;
    feed.offer("event", Json.write(e), id);
  }

  /** The stored events after the client's last id; called after registering for live ones, so none falls between. */
  synchronized void replay(Store store) {
    if (replayed) return;
    int n = 0;
    for (Entry e : store.localList(Keys.EVENTS)) {
      String id = e.key().substring(Keys.EVENTS.length());
      if (id.compareTo(after) <= 0 || sent.contains(id)) continue;
      if (n == MAX) {
        feed.endAfterQueued(); // more than a queue's worth behind: the client takes them in rounds
        break;
      }
      sent.add(id);
      feed.offer("event", e.value(), id);
      n++;
    }
    replayed = true;
    sent.clear();
  }
}
