package dev.understudy.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * systemd units run as apps ({@code systemd:NAME.service}): whether this server can run one, and what keeps the one-host
 * guarantee for it. A unit's processes live in the cgroup systemd makes for the unit, not in the app's, so the agent
 * guards that cgroup too: the fence kills it ({@code cgroup.kill}) with the app's when the lease runs out, and a stop
 * or a crash kills what the unit left in it. A runtime drop-in sets {@code Restart=no}, since systemd restarting a unit
 * the fence just killed would undo the kill, and a unit enabled at boot does not qualify (systemd, not the cluster,
 * would start it), as Pacemaker requires of the units it manages.
 */
public final class SystemdUnits {
  private static final Logger log = LoggerFactory.getLogger(SystemdUnits.class);
  /** Where systemd keeps runtime units; it exists exactly when systemd is PID 1 (sd_booted(3) checks the same). */
  static final Path RUNTIME_UNITS = Path.of("/run/systemd/system");
  /** Drop-ins apply in the order of their names, whatever their directory: this one sorts after the usual ones. */
  static final String DROP_IN = "zz-understudy.conf";
  static final String DROP_IN_TEXT = """
      # Written by the Understudy agent: the cluster starts and stops this unit, and it must not come back by itself
      # after the agent's fence killed it (it may run on another server by then).
      [Service]
      Restart=no
      """;
  /** How long an answer of systemd about a unit is used before it is asked again (in the background). */
  private static final long FRESH_NANOS = TimeUnit.SECONDS.toNanos(5);
  private static final long SYSTEMCTL_TIMEOUT_MS = 5_000;

  private final String systemctl;
  private final Path runtimeUnits;
  /** Null until first needed: looking for it makes a probe cgroup, which an agent with no unit to run need not. */
  private volatile Optional<Path> cgroupRoot;
  private final Map<String, Checked> checked = new ConcurrentHashMap<>();
  private final ExecutorService asker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "systemd-units");
    t.setDaemon(true);
    return t;
  });

  private record Checked(long atNanos, String why, boolean refreshing) {}

  /**
   * @param systemctl the systemctl program
   * @param runtimeUnits systemd's runtime unit directory (absent: systemd is not PID 1 here)
   * @param cgroupRoot the cgroup v2 mount whose tree systemd's {@code ControlGroup} paths name (empty: none usable;
   *     null: found when first needed)
   */
  SystemdUnits(String systemctl, Path runtimeUnits, Optional<Path> cgroupRoot) {
    this.systemctl = systemctl;
    this.runtimeUnits = runtimeUnits;
    this.cgroupRoot = cgroupRoot;
  }

  /** This machine's systemd, if it runs one. */
  static SystemdUnits system() { return new SystemdUnits(ProcessGroups.onPath("systemctl"), RUNTIME_UNITS, null); }

  /** The cgroup v2 tree a unit's cgroup is in, where one is usable (with {@code cgroup.kill}). */
  private Optional<Path> cgroupRoot() {
    Optional<Path> root = cgroupRoot;
    if (root == null) {
      try {
        root = AppCgroups.usable().isPresent() ? AppCgroups.cgroup2Mount() : Optional.empty();
      } catch (IOException e) {
        root = Optional.empty(); // no cgroup v2 here: units are refused (see unavailable)
      }
      cgroupRoot = root;
    }
    return root;
  }

  String systemctl() { return systemctl; }

  /**
   * Why {@code unit} cannot run on this server (null: it can). Asked of systemd at most every 5 s, in the background
   * once answered: the decision loop calls this every round. An answer systemd could not give (it did not respond)
   * keeps the last one it gave: a slow systemd must not move a running app away.
   */
  String unavailable(String unit) {
    if (!Files.isDirectory(runtimeUnits)) {
      return "systemd is not running on this server (it is not PID 1): " + unit + " cannot run here";
    }
    if (cgroupRoot().isEmpty()) {
      return unit + " could not be fenced here: its processes live in its cgroup, and there is no usable cgroup v2 with cgroup.kill ("
          + AppCgroups.whyNot() + ")";
    }
    Checked c = checked.get(unit);
    if (c == null) {
      String why = ask(unit, null);
      checked.put(unit, new Checked(System.nanoTime(), why, false));
      return why;
    }
    if (System.nanoTime() - c.atNanos() > FRESH_NANOS && !c.refreshing()
        && checked.replace(unit, c, new Checked(c.atNanos(), c.why(), true))) {
      asker.execute(() -> checked.put(unit, new Checked(System.nanoTime(), ask(unit, c.why()), false)));
    }
    return c.why();
  }

  /** What systemd says of the unit, as a reason it cannot run here; {@code previous} when systemd did not answer. */
  private String ask(String unit, String previous) {
    Map<String, String> p;
    try {
      p = show(unit, "LoadState", "UnitFileState");
    } catch (IOException e) {
      log.warn("cannot ask systemd about {}: {}", unit, e.getMessage());
      return previous != null || checked.containsKey(unit) ? previous : "cannot ask systemd about " + unit + ": " + e.getMessage();
    }
    String load = p.getOrDefault("LoadState", "");
    String file = p.getOrDefault("UnitFileState", "");
    if (load.equals("not-found")) return unit + " is not installed here (systemd has no such unit)";
    if (load.equals("masked")) return unit + " is masked here (systemctl unmask " + unit + ")";
    if (!load.equals("loaded")) return unit + " does not load here (systemd says " + load + "; see systemctl status " + unit + ")";
    if (file.equals("enabled") || file.equals("enabled-runtime")) {
      return "systemd starts " + unit + " at boot (it is " + file + "): run `systemctl disable " + unit
          + "` on this server so that only the cluster starts it";
    }
    return null;
  }

  /**
   * Makes the unit the cluster's before its start: the drop-in that keeps systemd from restarting it (systemd is
   * reloaded when the drop-in changed), and a check that systemd took it (a later drop-in may set Restart= again).
   * Returns the unit's cgroup, which the fence guards with the app's.
   */
  Path takeOver(String unit) throws IOException {
    Path dir = runtimeUnits.resolve(unit + ".d");
    Path dropIn = dir.resolve(DROP_IN);
    if (!Files.exists(dropIn) || !Files.readString(dropIn).equals(DROP_IN_TEXT)) {
      Files.createDirectories(dir);
      Path tmp = dir.resolve(DROP_IN + ".tmp");
      Files.writeString(tmp, DROP_IN_TEXT);
      Files.move(tmp, dropIn, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      run(List.of(systemctl, "daemon-reload"));
      log.info("{}: runtime drop-in {} written (Restart=no), systemd reloaded", unit, dropIn);
    }
    Map<String, String> p = show(unit, "Restart", "ControlGroup", "Slice"); // one call: a start waits on it
    String restart = p.getOrDefault("Restart", "");
    if (!restart.equals("no")) {
      throw new IOException(unit + " has Restart=" + restart + " despite the cluster's drop-in " + dropIn
          + " (a drop-in named after it sets Restart=): systemd would restart it after the fence killed it; remove that setting");
    }
    return cgroupOf(unit, p);
  }

  /**
   * The unit's cgroup directory: where systemd runs it now ({@code ControlGroup}, set while it runs), else where it will
   * ({@code Slice}'s path, then the unit's name), so the fence guards it before the unit starts. {@code p}: what
   * systemd showed of the unit.
   */
  private Path cgroupOf(String unit, Map<String, String> p) throws IOException {
    Path root = cgroupRoot().orElseThrow(() -> new IOException("no cgroup v2 to find " + unit + " in"));
    String cg = p.getOrDefault("ControlGroup", "");
    if (cg.isEmpty()) cg = slicePath(p.getOrDefault("Slice", "")) + "/" + unit;
    return root.resolve(cg.substring(1));
  }

  /**
   * A slice's place in the cgroup tree: each dash opens a nested slice ({@code a-b.slice} is {@code /a.slice/a-b.slice}),
   * and the root slice ({@code -.slice}, or none) is the top.
   */
  static String slicePath(String slice) {
    if (slice.isEmpty() || slice.equals("-.slice")) return "";
    String name = slice.endsWith(".slice") ? slice.substring(0, slice.length() - ".slice".length()) : slice;
    StringBuilder path = new StringBuilder();
    int from = 0;
    while (true) {
      int dash = name.indexOf('-', from);
      path.append('/').append(dash < 0 ? name : name.substring(0, dash)).append(".slice");
      if (dash < 0) return path.toString();
      from = dash + 1;
    }
  }

  /** {@code systemctl show} of some properties of the unit. */
  Map<String, String> show(String unit, String... properties) throws IOException {
    String out = run(List.of(systemctl, "show", "--property=" + String.join(",", properties), "--", unit));
    Map<String, String> props = new HashMap<>();
    for (String line : out.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) props.put(line.substring(0, eq), line.substring(eq + 1).trim());
    }
    return props;
  }

  /** Runs systemctl, bounded (its output goes to a file: a read of a pipe would wait as long as a hung systemctl); its output, or why it failed. */
  private static String run(List<String> argv) throws IOException {
    Path out = Files.createTempFile("understudy-systemctl-", ".out");
    try {
      Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(out.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      String what = String.join(" ", argv.subList(1, argv.size()));
      if (!p.waitFor(SYSTEMCTL_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IOException(what + " took over " + SYSTEMCTL_TIMEOUT_MS + " ms");
      }
      String text = Files.readString(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) throw new IOException(what + " failed (exit " + p.exitValue() + "): " + text.trim());
      return text;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    } finally {
      Files.deleteIfExists(out);
    }
  }
}
