package dev.understudy.bench;

import dev.understudy.testing.NetLab;
import dev.understudy.store.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Makes the namespace lab, makes sure keepalived is installed (Debian's package), runs {@link NetnsBench} inside the
 * lab's client namespace, and removes the lab whatever happens. Skips, saying why, where it cannot.
 */
final class SideBySide {
  private SideBySide() {}

  static Map<String, Object> run(int trials, int basePort) throws Exception {
    Optional<String> why = NetLab.unavailable().or(SideBySide::keepalivedMissing);
    if (why.isPresent()) {
      System.out.println("  skipped: " + why.get());
      return Map.of("skipped", why.get());
    }
    Path out = Files.createTempFile("understudy-netns-", ".json");
    try (NetLab lab = NetLab.create(NetnsBench.NODES)) {
      String java = ProcessHandle.current().info().command().orElse("java");
      List<String> cmd = new ArrayList<>(lab.in("c", List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
          NetnsBench.class.getName(), lab.prefix(), String.valueOf(trials), out.toString(), String.valueOf(basePort))));
      Process p = new ProcessBuilder(cmd).inheritIO().start();
      if (p.waitFor() != 0) throw new IllegalStateException("the namespace benchmark failed (exit " + p.exitValue() + ")");
      @SuppressWarnings("unchecked")
      Map<String, Object> m = Json.MAPPER.readValue(out.toFile(), Map.class);
      return m;
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** keepalived from Debian's package, installed here if missing. */
  private static Optional<String> keepalivedMissing() {
    if (onPath("keepalived")) return Optional.empty();
    System.out.println("  installing keepalived (apt-get install keepalived)...");
    try {
      NetLab.run("sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq keepalived >/dev/null 2>&1"
          + " || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq keepalived >/dev/null 2>&1)");
    } catch (java.io.IOException e) {
      return Optional.of("keepalived is not installed and apt-get could not install it");
    }
    return onPath("keepalived") ? Optional.empty() : Optional.of("keepalived is not installed");
  }

  /** keepalived lives in /usr/sbin, which a non-root PATH may lack. */
  private static boolean onPath(String cmd) {
    return dev.understudy.run.ProcessGroups.locate(cmd, "/usr/sbin", "/sbin", "/usr/bin", "/bin").isPresent();
  }
}
