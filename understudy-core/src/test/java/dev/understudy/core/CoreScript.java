package dev.understudy.core;

import dev.understudy.decide.Action;
import dev.understudy.decide.ClusterSnapshot;
import dev.understudy.decide.DiskState;
import dev.understudy.decide.Instance;
import dev.understudy.decide.Settings;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.AppType;
import dev.understudy.model.Command;
import dev.understudy.model.Event;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Runs one scripted scenario against a {@link NodeCore}: a database (apps and their versions), this node's replica of
 * it, its processes, lease and evidence on peers, and a clock. Each command returns what the core did, one line per
 * thing; {@link CoreScriptTest} compares that with the script's expected block.
 */
final class CoreScript {
  private NodeCore core;
  private final List<String> notes = new ArrayList<>();
  private long now = 1_000_000_000L;
  private long index;
  private final Map<String, App> db = new LinkedHashMap<>();
  private Map<String, App> replica = new LinkedHashMap<>();
  private long replicaIndex;
  private boolean replicaStalled;
  private boolean leaseValid = true;
  private long leaseWriteIndex = 1; // the node holds a lease written at index 1 (a round is current once it applied it)
  private final Map<String, Instance> procs = new TreeMap<>();
  private final Map<String, Input.Seen> seen = new TreeMap<>();
  private final Map<String, Input.LeaseSeen> leases = new TreeMap<>();
  private final Map<String, List<String>> unmet = new TreeMap<>();
  private final Map<String, Map<String, List<String>>> readiness = new TreeMap<>();
  private List<Action.Commit> pending = List.of();
  private List<String> servers = List.of();

  String run(String line) {
    String[] w = line.trim().split("\\s+");
    Map<String, String> kv = new LinkedHashMap<>();
    for (int i = 1; i < w.length; i++) {
      int eq = w[i].indexOf('=');
      kv.put(eq < 0 ? w[i] : w[i].substring(0, eq), eq < 0 ? "" : w[i].substring(eq + 1));
    }
    List<String> out = new ArrayList<>();
    switch (w[0]) {
      case "node" -> node(kv);
      case "app" -> out.add(app(w[1], kv));
      case "peer" -> peer(w[1], kv, out);
      case "proc" -> proc(w[1], kv);
      case "lease" -> leaseValid = w[1].equals("valid");
      case "lacks" -> unmet.put(w[1], List.of(Arrays.copyOfRange(w, 2, w.length)));
      case "publishes" -> readiness.computeIfAbsent(w[1], k -> new TreeMap<>()).put(w[2], List.of(Arrays.copyOfRange(w, 3, w.length)));
      case "time" -> now += dur(w[1].substring(1)).toNanos();
      case "replica" -> {
        replicaStalled = w[1].equals("stall");
        if (w[1].equals("sync")) sync();
      }
      case "fail" -> {
        core.step(new Input.AppFailed(w[1], now));
        collect(out);
      }
      case "round" -> round(out);
      case "operator" -> out.add(operator(w[1], w[2], kv.get("to")));
      case "result" -> result(w[1], kv.containsKey("applied"), out);
      case "status" -> status(out);
      default -> throw new IllegalArgumentException("unknown command: " + w[0]);
    }
    if (!replicaStalled) sync();
    return out.isEmpty() ? "ok" : String.join("\n", out);
  }

  private void node(Map<String, String> kv) {
    servers = List.of(kv.get("servers").split(","));
    Settings s = new Settings(dur(kv.getOrDefault("failbackHold", "2s")), Integer.parseInt(kv.getOrDefault("restartLimit", "3")),
        dur(kv.getOrDefault("restartWindow", "60s")), dur(kv.getOrDefault("restartBackoff", "500ms")));
    String self = kv.get("self");
    core = new NodeCore(self, s, notes::add);
    for (String p : servers) {
      if (p.equals(self)) continue;
      seen.put(p, new Input.Seen(p, true, now, DiskState.NOT_CONFIGURED, false, true, true));
      leases.put(p, new Input.LeaseSeen(false, 1, false));
    }
    core.step(new Input.Members(servers, now, DiskState.NOT_CONFIGURED));
    core.step(new Input.Observed(now, 1, List.copyOf(seen.values())));
    notes.clear();
  }

  static Duration dur(String s) {
    return s.endsWith("ms") ? Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)))
        : Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)));
  }

  private String app(String tag, Map<String, String> kv) {
    App a = db.get(tag);
    if (a == null) {
      a = App.create(tag, AppType.valueOf(kv.getOrDefault("type", "capable").toUpperCase()), Command.of("x"), kv.get("primary"),
          kv.containsKey("backups") ? List.of(kv.get("backups").split(",")) : List.of(), List.of(), false, null, Map.of());
    }
    String host = kv.containsKey("host") ? emptyToNull(kv.get("host")) : a.host();
    a = new App(a.tag(), a.type(), a.command(), host, a.primary(), a.backups(), a.resources(), a.managed(),
        Boolean.parseBoolean(kv.getOrDefault("autoFailback", String.valueOf(a.autoFailback()))), a.service(),
        Long.parseLong(kv.getOrDefault("epoch", String.valueOf(a.epoch()))),
        AppState.valueOf(kv.getOrDefault("state", a.state().name())), a.stateReason(),
        kv.containsKey("target") ? emptyToNull(kv.get("target")) : a.target(),
        Boolean.parseBoolean(kv.getOrDefault("displaced", String.valueOf(a.displaced()))), a.attributes(),
        a.resets() + (kv.containsKey("reset") ? 1 : 0), 0);
    return "db: " + describe(write(a));
  }

  /** An operator's command through {@link OperatorRules}, written as the API writes it (or refused). */
  private String operator(String what, String tag, String to) {
    App cur = db.get(tag);
    try {
      OperatorRules.Transition t = switch (what) {
        case "load" -> OperatorRules.load(cur);
        case "unload" -> OperatorRules.unload(cur);
        case "reset" -> OperatorRules.reset(cur);
        case "move" -> OperatorRules.move(cur, to, new java.util.TreeSet<>(servers));
        case "approve" -> OperatorRules.approveFailback(cur);
        default -> throw new IllegalArgumentException("operator load|unload|reset|move|approve TAG [to=S]");
      };
      return "operator: " + t.message() + "\ndb: " + describe(write(t.next()));
    } catch (OperatorRules.Refused r) {
      return "refused (" + r.refusal() + "): " + r.getMessage();
    }
  }

  private static String emptyToNull(String s) { return s.isEmpty() || s.equals("none") ? null : s; }

  private App write(App a) {
    App stored = a.withVersion(++index);
    db.put(a.tag(), stored);
    return stored;
  }

  private void sync() {
    replica = new LinkedHashMap<>(db);
    replicaIndex = index;
  }

  private void peer(String id, Map<String, String> kv, List<String> out) {
    Input.Seen s = seen.get(id);
    boolean lanOk = kv.containsKey("lan") ? kv.get("lan").equals("ok") : s.lanOk();
    boolean expired = kv.containsKey("lease") ? kv.get("lease").equals("expired") : s.leaseExpired();
    DiskState disk = kv.containsKey("disk") ? DiskState.valueOf(kv.get("disk").toUpperCase()) : s.disk();
    seen.put(id, new Input.Seen(id, lanOk, lanOk ? now : s.ackNanos(), disk, expired, true, true));
    Input.LeaseSeen l = leases.get(id);
    leases.put(id, new Input.LeaseSeen(expired, l.version() + (kv.containsKey("renewed") ? 1 : 0), false));
    core.step(new Input.Observed(now, now / 1_000_000, List.copyOf(seen.values())));
    collect(out);
  }

  private void proc(String tag, Map<String, String> kv) {
    if (kv.containsKey("none")) {
      procs.remove(tag);
      return;
    }
    String phase = kv.containsKey("standby") ? "RUNNING" : kv.containsKey("starting") ? "STARTING"
        : kv.containsKey("stopping") ? "STOPPING" : "RUNNING";
    procs.put(tag, new Instance(tag, Long.parseLong(kv.getOrDefault("epoch", "1")), Instance.Phase.valueOf(phase), now,
        kv.containsKey("standby")));
  }

  private void round(List<String> out) {
    Map<String, String> addresses = new HashMap<>();
    for (String s : servers) addresses.put(s, "10.0.0." + s.substring(1));
    core.step(new Input.Round(now, new ClusterSnapshot(replica, Map.of(), readiness), replicaIndex, leaseWriteIndex, leaseValid,
        Map.copyOf(procs), unmet, true, leases, addresses, false));
    collect(out);
    long wake = core.ready().wakeAtNanos();
    if (wake != Long.MAX_VALUE) out.add("wake in " + (wake - now) / 1_000_000 + "ms");
  }

  /** Prints what the core wants done now; commits stay pending until a {@code result}. */
  private void collect(List<String> out) {
    for (String n : notes) out.add("note: " + n);
    notes.clear();
    Ready r = core.ready();
    for (Action a : r.actions()) {
      if (a instanceof Action.Start s) out.add("start " + s.app().tag() + "@" + s.app().epoch() + (s.standby() ? " standby" : ""));
      else if (a instanceof Action.Promote p) out.add("promote " + p.app().tag() + "@" + p.app().epoch());
      else if (a instanceof Action.Stop s) out.add("stop " + s.tag() + ": " + s.reason());
    }
    for (Action.Commit c : r.commits()) {
      out.add("commit " + describe(c.updated()).replaceFirst(" v", " over v") + (c.leaseServer() == null ? "" : " revoking " + c.leaseServer() + "'s lease v"
          + c.leaseVersion()) + (c.event() == null ? "" : " | " + event(c.event())));
    }
    for (Event e : r.events()) out.add("event " + event(e));
    for (var m : r.measures()) out.add("measure " + m.kind().name().toLowerCase() + " " + Math.round(m.seconds() * 1000) + "ms");
    if (r.routes() != null) r.routes().forEach(t -> out.add("route " + t.tag() + " -> " + (t.up() ? t.address() : "nowhere")));
    pending = r.commits();
    core.advance(new Ready(r.actions(), List.of(), r.events(), r.routes(), r.measures(), r.wakeAtNanos()));
  }

  private void result(String how, boolean appliedAnyway, List<String> out) {
    List<Action.Commit> commits = pending;
    pending = List.of();
    for (Action.Commit c : commits) {
      App cur = db.get(c.updated().tag());
      long actual = cur == null ? 0 : cur.version();
      boolean fits = actual == c.updated().version();
      switch (how) {
        case "ok" -> {
          if (!fits) throw new IllegalStateException("commit of " + c.updated().tag() + " does not fit: db at v" + actual);
          App w = write(c.updated());
          core.step(new Input.WriteDone(c, true, w.version(), null, now));
        }
        case "conflict" -> core.step(new Input.WriteDone(c, false, 0, actual, now));
        case "unknown" -> {
          if (appliedAnyway && fits) write(c.updated());
          core.step(new Input.WriteUnknown(c));
        }
        case "lost" -> { // the rule R4b turned off: the reply is lost and the node is told nothing
          if (appliedAnyway && fits) write(c.updated());
        }
        default -> throw new IllegalArgumentException("result ok|conflict|unknown|lost [applied]");
      }
    }
    // the commits are settled; what their results produced (events, measures) is carried out now
    collect(out);
  }

  private void status(List<String> out) {
    NodeStatus s = core.status();
    new TreeMap<>(s.peers()).values().forEach(p -> out.add("peer " + p.server() + " " + p.verdict() + " since " + (p.sinceNanos() - 1_000_000_000L) / 1_000_000 + "ms"));
    if (!s.failures().isEmpty()) {
      s.failures().forEach((t, f) -> out.add("failures " + t + " " + f.stream().map(x -> (x - 1_000_000_000L) / 1_000_000 + "ms").toList()));
    }
    if (!s.uncertain().isEmpty()) out.add("uncertain " + new java.util.TreeSet<>(s.uncertain()));
    out.add("mustApply " + s.mustApply() + " (replica at " + replicaIndex + ")");
    if (!s.readiness().isEmpty()) out.add("readiness " + s.readiness());
  }

  private static String describe(App a) {
    return a.tag() + " v" + a.version() + " host=" + (a.hasHost() ? a.host() : "none") + "@" + a.epoch() + " " + a.state()
        + (a.target() != null ? " target=" + a.target() : "") + (a.displaced() ? " displaced" : "");
  }

  private static String event(Event e) { return e.kind() + ": " + e.message(); }
}
