package dev.understudy.chaos;

import dev.understudy.testing.History;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The apps a chaos run clusters, and the ledgers they keep outside the cluster: every instance's life (the history),
 * every start (the starts ledger: START, and FAIL or HANG while a fault makes the start fail), and every hold of the
 * app's managed resource (the resource ledger: ACQ and REL). The resource is a file per server standing for a mount or
 * an address: S1 is checked on its holds as on processes.
 */
final class ChaosApps {
  final Path dir;
  final Path history;
  final Path starts;
  final Path resources;

  ChaosApps(Path dir, Path history) {
    this.dir = dir;
    this.history = history;
    this.starts = dir.resolve("starts.log");
    this.resources = dir.resolve("resources.log");
  }

  /** The definition of app {@code tag}. */
  Map<String, Object> definition(String tag, String primary, List<String> backups, boolean autoFailback) {
    return Map.of("tag", tag,
        "command", Map.of("argv", command(), "stopTimeoutMs", 2000, "startTimeoutMs", 4000,
            "health", Map.of("command", List.of("bash", "-c", "[ ! -e " + dir.resolve("hang-") + "$UNDERSTUDY_SERVER ]"),
                "intervalMs", 1000, "timeoutMs", 1000, "failures", 2)),
        "managed", List.of(volume()),
        "primary", primary, "backups", backups, "autoFailback", autoFailback);
  }

  private static final String WHO = "$UNDERSTUDY_TAG $UNDERSTUDY_SERVER $(date +%s%N)";

  /**
   * The recorder, noting each start, refusing to start on a server while {@code broken-SERVER} exists in the run's
   * directory (an app that fails at start there: a missing mount, a bad path), and noting a start while
   * {@code hang-SERVER} exists (its health check fails there, so the start hangs until its start timeout).
   */
  private List<String> command() {
    List<String> recorder = History.recorderCommand(history);
    String broken = dir.resolve("broken-").toString();
    String hang = dir.resolve("hang-").toString();
    return List.of("bash", "-c", "echo \"START " + WHO + "\" >> " + starts
        + "; [ -e " + broken + "$UNDERSTUDY_SERVER ] && { echo \"FAIL " + WHO + "\" >> " + starts + "; echo broken here; exit 1; }"
        + "; [ -e " + hang + "$UNDERSTUDY_SERVER ] && echo \"HANG " + WHO + "\" >> " + starts
        + "; exec \"$0\" \"$@\"", recorder.get(0), recorder.get(1), recorder.get(2));
  }

  /** A managed resource held as the file held-TAG-SERVER, each acquisition and release written to the resource ledger. */
  private Map<String, Object> volume() {
    String held = dir.resolve("held-") + "$UNDERSTUDY_TAG-$UNDERSTUDY_SERVER";
    return Map.of("name", "volume",
        "start", List.of("bash", "-c", "echo \"ACQ " + WHO + "\" >> " + resources + " && touch " + held),
        "stop", List.of("bash", "-c", "if [ -e " + held + " ]; then rm -f " + held + "; echo \"REL " + WHO + "\" >> " + resources + "; fi"),
        "check", List.of("bash", "-c", "[ -e " + held + " ]"),
        "timeoutMs", 5000);
  }
}
