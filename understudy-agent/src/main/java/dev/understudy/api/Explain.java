package dev.understudy.api;

import dev.understudy.agent.Agent;
import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.decide.Decider;
import dev.understudy.decide.LocalView;
import dev.understudy.decide.PeerView;
import dev.understudy.decide.Verdict;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.Event;
import dev.understudy.model.Keys;
import dev.understudy.store.Entry;
import dev.understudy.store.Json;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** "Why is this app where it is, and what happens next?" and "where would everything go if S failed?" */
final class Explain {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

  private Explain() {}

  static Map<String, Object> why(Agent agent, App a) {
    ClusterSnapshot snap = agent.snapshot();
    LocalView view = agent.localView();
    List<String> lines = new ArrayList<>();
    lines.add(a.tag() + " is " + a.state() + (a.hasHost() ? " on " + a.host() : "") + " at epoch " + a.epoch()
        + (a.stateReason() != null ? " (" + a.stateReason() + ")" : "") + ".");
    for (String s : a.servers()) {
      String role = s.equals(a.primary()) ? "primary" : "backup #" + a.backups().indexOf(s);
      StringBuilder b = new StringBuilder(s + " (" + role + "): ");
      if (s.equals(agent.id())) {
        b.append(agent.leaseKeeper().valid() ? "this agent, lease held" : "this agent, lease NOT held: " + agent.leaseKeeper().lostReason());
      } else {
        dev.understudy.core.PeerStatus ps = agent.peerStatus().get(s);
        if (ps == null) {
          b.append("unknown to ").append(agent.id());
        } else {
          b.append(ps.verdict()).append(ps.sinceWallMillis() > 0 ? " since " + TIME.format(Instant.ofEpochMilli(ps.sinceWallMillis())) : "")
              .append(" (LAN ").append(ps.lanOk() ? "ok" : "lost").append(", disk ").append(ps.disk())
              .append(", lease ").append(ps.leaseExpired() ? "expired" : "current").append(")")
              .append(agent.restarting(s) ? "; restarting: given nothing new until its agent is back" : "");
        }
      }
      List<String> miss = Decider.missingOn(s, a, snap, view, agent.settings(), agent.nowNanos());
      if (!miss.isEmpty()) b.append("; lacks ").append(String.join(", ", miss));
      lines.add(b.toString());
    }
    for (Event e : recentEvents(agent, a.tag(), 5)) {
      lines.add(TIME.format(Instant.ofEpochMilli(e.timeMillis())) + " " + e.kind() + ": " + e.message());
    }
    Optional<String> next = Decider.firstCandidate(a, snap, view, agent.settings(), agent.nowNanos(), a.host());
    String whatNext;
    if (a.state() == AppState.UNLOADED) whatNext = "nothing: an operator unloaded it; `understudy app load " + a.tag() + "` starts it on " + a.primary();
    else if (a.state() == AppState.FAILED) whatNext = "nothing until a failure expires or an operator resets it: fix the cause,"
        + " then `understudy app reset " + a.tag() + "` (or `app load`) lets every server try it again";
    else if (a.state() == AppState.FAILBACK_PENDING) whatNext = "waits for an operator: `understudy app approve " + a.tag() + "` moves it back to " + a.primary();
    else if (next.isPresent()) whatNext = "if " + (a.hasHost() ? a.host() : "its host") + " fails, " + next.get() + " takes it over";
    else whatNext = "if " + (a.hasHost() ? a.host() : "its host") + " fails, NO server could take it (see above)";
    lines.add("Next: " + whatNext + ".");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("tag", a.tag());
    m.put("explanation", lines);
    m.put("nextHost", next.orElse(null));
    return m;
  }

  static List<Event> recentEvents(Agent agent, String tag, int n) {
    List<Event> out = new ArrayList<>();
    List<Entry> all = agent.store().localList(Keys.EVENTS);
    for (int i = all.size() - 1; i >= 0 && out.size() < n; i--) {
      Event e = Json.read(all.get(i).value(), Event.class);
      if (tag.equals(e.app())) out.add(0, e);
    }
    return out;
  }

  /** Where every app hosted on {@code failed} would go if it failed now (as this agent sees the cluster). */
  static Map<String, Object> simulate(Agent agent, String failed) {
    ClusterSnapshot snap = agent.snapshot();
    LocalView real = agent.localView();
    Map<String, PeerView> peers = new HashMap<>(real.peers());
    peers.put(failed, new PeerView(failed, Verdict.DOWN, 0, true, 0, true));
    boolean selfFails = failed.equals(agent.id());
    LocalView view = new LocalView(real.self(), real.leaseValid() && !selfFails, real.instances(), peers, real.unmet(),
        real.uplinkOk(), real.failureNanos());
    List<Map<String, Object>> moves = new ArrayList<>();
    List<String> stranded = new ArrayList<>();
    for (App a : snap.apps().values()) {
      if (!failed.equals(a.host())) continue;
      Optional<String> to = Decider.firstCandidate(a, snap, view, agent.settings(), agent.nowNanos(), failed);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("tag", a.tag());
      m.put("to", to.orElse(null));
      if (to.isEmpty()) {
        stranded.add(a.tag());
        List<String> why = new ArrayList<>();
        for (String s : a.servers()) {
          if (s.equals(failed)) continue;
          List<String> miss = Decider.missingOn(s, a, snap, view, agent.settings(), agent.nowNanos());
          PeerView pv = peers.get(s);
          why.add(s + (!miss.isEmpty() ? " lacks " + String.join(", ", miss) : " is " + (s.equals(agent.id()) ? "this agent" : pv == null ? "unknown" : pv.verdict())));
        }
        m.put("reason", String.join("; ", why));
      }
      moves.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("fail", failed);
    out.put("moves", moves);
    out.put("stranded", stranded);
    return out;
  }
}
