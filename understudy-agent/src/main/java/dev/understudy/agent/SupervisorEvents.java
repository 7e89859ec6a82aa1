package dev.understudy.agent;

import dev.understudy.core.Input;
import dev.understudy.detect.Ticker;
import dev.understudy.model.Event;
import dev.understudy.run.Supervisor;
import java.util.Map;
import java.util.function.Consumer;

/** What the supervisor reports about this server's processes: failures go to the core, and every report is an event. */
final class SupervisorEvents implements Supervisor.Listener {
  private final String self;
  private final Ticker ticker;
  private final CoreLoop loop;
  private final Consumer<Event> emit;
  /** tag -> {epoch, ticker nanos}: the last crash here, so the restart at that epoch can say how long it was down. */
  private final Map<String, long[]> lastCrash = new java.util.concurrent.ConcurrentHashMap<>();

  SupervisorEvents(String self, Ticker ticker, CoreLoop loop, Consumer<Event> emit) {
    this.self = self;
    this.ticker = ticker;
    this.loop = loop;
    this.emit = emit;
  }

  @Override
  public void exited(String tag, long epoch, boolean crashed, int code) {
    if (crashed) {
      loop.post(new Input.AppFailed(tag, ticker.nanos()));
      lastCrash.put(tag, new long[] {epoch, ticker.nanos()});
      emit.accept(new Event(null, 0, "APP_CRASHED", self, tag, tag + " exited with code " + code + " on " + self, Map.of()));
    }
  }

  @Override
  public void running(String tag, long epoch) {
    long[] c = lastCrash.remove(tag);
    if (c == null || c[0] != epoch) return; // a first start: the RUNNING commit says so
    long downMs = (ticker.nanos() - c[1]) / 1_000_000;
    emit.accept(new Event(null, 0, "APP_RESTARTED", self, tag, tag + " restarted on " + self + " after its crash (down "
        + downMs + " ms)", Map.of("epoch", String.valueOf(epoch), "downMs", String.valueOf(downMs))));
  }

  @Override
  public void startFailed(String tag, long epoch, String why) {
    emit.accept(new Event(null, 0, "START_FAILED", self, tag, tag + " could not start on " + self + ": " + why, Map.of()));
  }

  @Override
  public void unhealthy(String tag, long epoch, String why) {
    emit.accept(new Event(null, 0, "APP_UNHEALTHY", self, tag, tag + " on " + self + " " + why, Map.of()));
  }

  @Override
  public void releaseFailed(String tag, long epoch, String why) {
    emit.accept(new Event(null, 0, "RELEASE_FAILED", self, tag, tag + " on " + self + ": " + why, Map.of()));
  }

  @Override
  public void changed() { loop.wake(); }
}
