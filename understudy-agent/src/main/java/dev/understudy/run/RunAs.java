package dev.understudy.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Who an app's program runs as, and the environment it starts with. The agent runs as root to fence, mount and route;
 * its apps should not: as another user they cannot read the agent's config (its token and secret), its keys or its
 * replica, and so cannot reach the database either. The switch is {@code setpriv} (util-linux) exec'd by the launcher,
 * so the program keeps the launcher's pid and process group, which the fence and the stop act on.
 */
public record RunAs(String user, int uid, int gid, String home) {
  private static final String SETPRIV = ProcessGroups.locate("setpriv", "/usr/bin", "/bin").orElse(null);
  private static final Map<String, Cached> CACHE = new ConcurrentHashMap<>();
  private static final long CACHE_NANOS = TimeUnit.SECONDS.toNanos(30);
  /** The search path an app gets: the agent's own may name directories of the agent's installation. */
  static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  private record Cached(RunAs value, long at) {}

  /**
   * The account {@code user} (and {@code group}, else the user's own), looked up with {@code getent}. Throws with the
   * reason when it does not exist, or when this agent cannot switch users (it is not root, or setpriv is missing).
   */
  public static RunAs resolve(String user, String group) throws IOException {
    String key = user + ":" + (group == null ? "" : group);
    Cached c = CACHE.get(key);
    if (c != null && System.nanoTime() - c.at() < CACHE_NANOS) return c.value();
    if (!agentIsRoot()) throw new IOException("cannot run as " + user + ": the agent is not root (run it as root, or unset the user)");
    if (SETPRIV == null) throw new IOException("cannot run as " + user + ": setpriv (util-linux) is not installed");
    String[] pw = getent("passwd", user);
    if (pw == null || pw.length < 6) throw new IOException("no user " + user + " on this server");
    int gid = Integer.parseInt(pw[3]);
    if (group != null) {
      String[] gr = getent("group", group);
      if (gr == null || gr.length < 3) throw new IOException("no group " + group + " on this server");
      gid = Integer.parseInt(gr[2]);
    }
    RunAs r = new RunAs(pw[0], Integer.parseInt(pw[2]), gid, pw[5]);
    CACHE.put(key, new Cached(r, System.nanoTime()));
    return r;
  }

  /** The words put before the program's: it is exec'd as this user, with this user's groups. */
  public List<String> prefix() {
    return List.of(SETPRIV, "--reuid=" + uid, "--regid=" + gid, "--init-groups", "--");
  }

  /**
   * The environment an app starts with: a standard PATH, its account's HOME, USER and LOGNAME, the agent's locale and
   * time zone, then the app's own variables and Understudy's. Nothing else of the agent's (its own variables may hold
   * credentials) reaches the app.
   */
  public static Map<String, String> cleanEnvironment(RunAs who, Path workDir, Map<String, String> appAndUnderstudy) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", PATH);
    env.put("HOME", who != null ? who.home() : workDir.toString());
    String name = who != null ? who.user() : System.getProperty("user.name");
    if (name != null) {
      env.put("USER", name);
      env.put("LOGNAME", name);
    }
    for (String k : List.of("LANG", "LC_ALL", "TZ")) {
      String v = System.getenv(k);
      if (v != null) env.put(k, v);
    }
    env.putAll(appAndUnderstudy);
    return env;
  }

  static boolean agentIsRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
        if (line.startsWith("Uid:")) return line.split("\\s+")[2].equals("0"); // the effective uid
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  private static String[] getent(String db, String name) throws IOException {
    String getent = ProcessGroups.locate("getent", "/usr/bin", "/bin").orElse(null);
    if (getent == null) throw new IOException("getent is not installed: cannot look up " + name);
    Process p = new ProcessBuilder(getent, db, name).redirectErrorStream(true).start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0 || out.isEmpty()) return null;
      List<String> f = new ArrayList<>(List.of(out.split("\n")[0].split(":", -1)));
      return f.toArray(String[]::new);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted looking up " + name);
    } finally {
      p.destroy();
    }
  }
}
