package dev.understudy.agent;

import dev.understudy.model.Event;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Every event this replica applies goes to the metrics, the notifier and the listeners (the API's streams). */
final class EventFanout implements Consumer<Event> {
  private static final Logger log = LoggerFactory.getLogger(EventFanout.class);
  private final Metrics metrics;
  private final Notifier notifier;
  private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();

  EventFanout(Metrics metrics, Notifier notifier) {
    this.metrics = metrics;
    this.notifier = notifier;
  }

  void add(Consumer<Event> l) { listeners.add(l); }

  void remove(Consumer<Event> l) { listeners.remove(l); }

  @Override
  public void accept(Event e) {
    metrics.event(e);
    notifier.onEvent(e);
    for (Consumer<Event> l : listeners) {
      try {
        l.accept(e);
      } catch (RuntimeException ex) { // one broken stream must not stop the others, nor the store's watch
        log.debug("event listener failed: {}", ex.toString());
      }
    }
  }
}
