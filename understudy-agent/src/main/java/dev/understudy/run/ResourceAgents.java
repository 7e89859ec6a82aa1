package dev.understudy.run;

import dev.understudy.model.AgentSpec;
import dev.understudy.model.App;
import dev.understudy.model.HealthCheck;
import dev.understudy.model.ManagedResource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The scripts operators already have, run as apps and managed resources: OCF resource agents (with the OCF
 * environment: {@code OCF_ROOT}, {@code OCF_RESKEY_*}...), LSB init scripts, systemd units. Their start and stop
 * actions run inside the app's process group and cgroup (through {@code agent-run.sh}), so whatever they start is the
 * app's and is fenced with it (a systemd unit's processes are systemd's children, in the unit's cgroup, which is
 * guarded with the app's: {@link SystemdUnits}); their monitor (status) is the app's health check.
 */
public final class ResourceAgents {
  public static final Path DEFAULT_OCF_ROOT = Path.of("/usr/lib/ocf");
  static final Path INIT_D = Path.of("/etc/init.d");
  private final Path initDir;
  private final SystemdUnits systemd;
  /** A monitor every 10 s, 20 s allowed, one failure enough: Pacemaker's usual {@code op monitor}. */
  static final HealthCheck DEFAULT_MONITOR = new HealthCheck(null, null, null, 10_000L, 20_000L, 1);

  private final Path ocfRoot;
  /** Apps refused here by their agent's start (not installed, not configured...): tag to why, until reset. */
  private final Map<String, Refusal> refusals = new ConcurrentHashMap<>();

  private record Refusal(long resets, int definitionHash, String why) {}

  public ResourceAgents(Path ocfRoot) { this(ocfRoot, INIT_D, SYSTEMD); }

  ResourceAgents(Path ocfRoot, Path initDir) { this(ocfRoot, initDir, SYSTEMD); }

  /** This machine's systemd, looked up once. */
  private static final SystemdUnits SYSTEMD = SystemdUnits.system();

  ResourceAgents(Path ocfRoot, Path initDir, SystemdUnits systemd) {
    this.ocfRoot = ocfRoot == null ? DEFAULT_OCF_ROOT : ocfRoot;
    this.initDir = initDir;
    this.systemd = systemd;
  }

  SystemdUnits systemd() { return systemd; }

  public Path ocfRoot() { return ocfRoot; }

  /** One action of an agent: the command, and what it adds to the environment. */
  record Action(List<String> argv, Map<String, String> env) {}

  /** The script (or unit) the spec names on this machine. */
  Path script(AgentSpec s) {
    return switch (s.standard()) {
      case OCF -> ocfRoot.resolve("resource.d").resolve(s.provider()).resolve(s.type());
      case LSB -> initDir.resolve(s.type());
      case SYSTEMD -> Path.of(systemd.systemctl());
    };
  }

  /** The OCF environment of one instance ({@code instance}: the app's tag, or TAG:RESOURCE). */
  Map<String, String> environment(AgentSpec s, String instance) {
    Map<String, String> env = new HashMap<>();
    if (s.standard() == AgentSpec.Standard.SYSTEMD) env.put("SYSTEMCTL", systemd.systemctl());
    if (s.standard() != AgentSpec.Standard.OCF) return env;
    env.put("OCF_ROOT", ocfRoot.toString());
    env.put("OCF_FUNCTIONS_DIR", ocfRoot.resolve("lib/heartbeat").toString());
    env.put("OCF_RA_VERSION_MAJOR", "1");
    env.put("OCF_RA_VERSION_MINOR", "0");
    env.put("OCF_RESOURCE_INSTANCE", instance);
    env.put("OCF_RESOURCE_TYPE", s.type());
    env.put("OCF_RESOURCE_PROVIDER", s.provider());
    s.params().forEach((k, v) -> env.put("OCF_RESKEY_" + k, v));
    return env;
  }

  /** {@code action} (start, stop, monitor) of the spec, bounded by {@code timeoutMs} as the agent is told. */
  Action action(AgentSpec s, String instance, String action, long timeoutMs, long intervalMs) {
    Map<String, String> env = environment(s, instance);
    if (s.standard() == AgentSpec.Standard.OCF) {
      env.put("OCF_RESKEY_CRM_meta_timeout", Long.toString(timeoutMs));
      env.put("OCF_RESKEY_CRM_meta_interval", Long.toString(intervalMs));
    }
    List<String> argv = switch (s.standard()) {
      case OCF -> List.of(script(s).toString(), action);
      case LSB -> List.of(script(s).toString(), action.equals("monitor") ? "status" : action);
      case SYSTEMD -> action.equals("monitor") ? List.of(script(s).toString(), "is-active", "--quiet", s.type())
          : List.of(script(s).toString(), action, s.type());
    };
    return new Action(argv, env);
  }

  /** The app's own agent, or empty when it runs a program. */
  static Optional<AgentSpec> of(App app) {
    try {
      return AgentSpec.of(app.command().argv());
    } catch (IllegalArgumentException e) {
      return Optional.empty(); // validated when defined; an older object is run as the program it names
    }
  }

  /**
   * What the launcher runs for an agent app: the driver script, which runs the start action, waits, and runs the stop
   * action when told to stop. Arguments: kind, target, start and stop timeouts in seconds, the started marker.
   */
  List<String> driverArgv(Path driverScript, AgentSpec s, App app, Path startedMarker) {
    return List.of(ProcessGroups.onPath("sh"), driverScript.toString(),
        s.standard().name().toLowerCase(java.util.Locale.ROOT), s.standard() == AgentSpec.Standard.SYSTEMD ? s.type() : script(s).toString(),
        Long.toString(seconds(app.command().startTimeout())), Long.toString(seconds(app.command().stopTimeout())),
        startedMarker.toString());
  }

  private static long seconds(long ms) { return Math.max(1, (ms + 999) / 1000); }

  /** The app's health: its own check if it has one with a probe, else its agent's monitor at the interval given. */
  static HealthCheck health(App app) {
    HealthCheck h = app.command().health();
    return h != null || of(app).isEmpty() ? h : DEFAULT_MONITOR;
  }

  /** A health check with no probe of its own: for an agent app, its agent's monitor action. */
  static boolean isMonitor(HealthCheck h) { return h != null && h.port() == null && h.http() == null && h.command() == null; }

  /** Why this server cannot run {@code spec} now (null: it can). */
  String unavailable(AgentSpec s) {
    if (s.standard() == AgentSpec.Standard.SYSTEMD) return systemd.unavailable(s.type());
    Path script = script(s);
    if (!Files.isRegularFile(script) || !Files.isExecutable(script)) return s.name() + " is not installed here (" + script + ")";
    return null;
  }

  /** Reasons this server does not qualify for the app: its agent is missing, or refused it at start until a reset. */
  public List<String> unmet(App app) {
    List<String> why = new ArrayList<>();
    Optional<AgentSpec> own = of(app);
    own.map(this::unavailable).ifPresent(why::add);
    for (ManagedResource m : app.managed()) {
      if (!m.byAgent()) continue;
      try {
        AgentSpec.of(m.agent()).map(this::unavailable).ifPresent(w -> why.add("managed " + m.name() + ": " + w));
      } catch (IllegalArgumentException e) {
        why.add("managed " + m.name() + ": " + e.getMessage());
      }
    }
    Refusal r = refusals.get(app.tag());
    if (r != null) {
      if (r.resets() == app.resets() && r.definitionHash() == definitionHash(app)) why.add(r.why());
      else refusals.remove(app.tag(), r);
    }
    return why;
  }

  /**
   * The app's agent exited from its start with {@code code}: OCF (and LSB) 2 (bad arguments), 4 (no permission),
   * 5 (not installed) and 6 (not configured) mean this server cannot run it as defined, so it no longer qualifies for
   * it until an operator resets the app or changes its definition. True when the code was one of those.
   */
  boolean startRefused(App app, int code) {
    String what = switch (code) {
      case 2 -> "invalid arguments";
      case 4 -> "insufficient privileges";
      case 5 -> "not installed";
      case 6 -> "not configured";
      default -> null;
    };
    if (what == null || of(app).isEmpty()) return false;
    refusals.put(app.tag(), new Refusal(app.resets(), definitionHash(app),
        of(app).get().name() + " refused to start here: " + what + " (exit " + code + "); see the app's log, fix it, then `understudy app reset " + app.tag() + "`"));
    return true;
  }

  /**
   * Checks an app's agents on this server as it is defined: each is installed here, and (OCF) its parameters are those
   * its meta-data declares, the required ones all given. Returns the app with the agent's advised start and stop
   * timeouts filled in where the definition gives none, as {@code pcs resource create} does.
   */
  public App checkDefinition(App app) {
    App out = app;
    Optional<AgentSpec> own = of(app);
    if (own.isPresent()) {
      OcfMetaData md = checked("command.argv", own.get(), app.tag());
      if (md != null) {
        var c = app.command();
        out = out.withCommand(c.withTimeouts(
            c.startTimeoutMs() != null ? c.startTimeoutMs() : clamp(md.timeoutsMs().get("start"), 3_600_000),
            c.stopTimeoutMs() != null ? c.stopTimeoutMs() : clamp(md.timeoutsMs().get("stop"), 600_000)));
      }
    }
    List<ManagedResource> managed = new ArrayList<>();
    for (ManagedResource m : app.managed()) {
      if (!m.byAgent()) {
        managed.add(m);
        continue;
      }
      AgentSpec spec = AgentSpec.of(m.agent()).orElseThrow();
      OcfMetaData md = checked("managed." + m.name() + ".agent", spec, app.tag() + "-" + m.name());
      Long t = m.timeoutMs();
      if (t == null && md != null) {
        Long start = md.timeoutsMs().get("start");
        Long stop = md.timeoutsMs().get("stop");
        t = clamp(start == null ? stop : stop == null ? start : Math.max(start, stop), 600_000);
      }
      managed.add(ManagedResource.ofAgent(m.name(), m.agent(), t));
    }
    return out.withManaged(managed);
  }

  private static Long clamp(Long ms, long max) { return ms == null ? null : Math.max(100, Math.min(max, ms)); }

  /** Installed here and, for OCF, its parameters checked against its meta-data (returned; null for LSB). */
  private OcfMetaData checked(String field, AgentSpec spec, String instance) {
    String why = unavailable(spec);
    if (why != null) throw new dev.understudy.model.InvalidAppException(field, why + "; define it through a server that has it");
    if (spec.standard() != AgentSpec.Standard.OCF) return null;
    OcfMetaData md = metaData(field, spec, instance);
    List<String> unknown = spec.params().keySet().stream().filter(k -> !md.parameters().containsKey(k)).toList();
    if (!unknown.isEmpty()) {
      throw new dev.understudy.model.InvalidAppException(field, spec.name() + " has no parameter " + String.join(", ", unknown)
          + " (it has " + String.join(", ", md.parameters().keySet()) + ")");
    }
    List<String> missing = md.parameters().entrySet().stream().filter(e -> e.getValue() && !spec.params().containsKey(e.getKey()))
        .map(Map.Entry::getKey).toList();
    if (!missing.isEmpty()) {
      throw new dev.understudy.model.InvalidAppException(field, spec.name() + " needs " + String.join(", ", missing.stream().map(k -> k + "=...").toList()));
    }
    return md;
  }

  /** Runs the agent's meta-data action (5 s at most) and parses it. */
  OcfMetaData metaData(String field, AgentSpec spec, String instance) {
    try {
      ProcessBuilder pb = new ProcessBuilder(script(spec).toString(), "meta-data");
      pb.environment().putAll(environment(spec, instance));
      pb.redirectError(ProcessBuilder.Redirect.DISCARD);
      Process p = pb.start();
      byte[] xml = p.getInputStream().readNBytes(1 << 20);
      if (!p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new java.io.IOException("meta-data took over 5 s");
      }
      return OcfMetaData.parse(xml);
    } catch (Exception e) {
      if (e instanceof InterruptedException) Thread.currentThread().interrupt();
      throw new dev.understudy.model.InvalidAppException(field, "cannot read the meta-data of " + spec.name() + ": " + e.getMessage());
    }
  }

  private static int definitionHash(App app) { return java.util.Objects.hash(app.command(), app.managed()); }
}
