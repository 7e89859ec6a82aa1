package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.agent.ConfigException;
import dev.understudy.agent.Durations;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Waits until an agent is ready (GET /healthz: it knows the leader, holds its lease and its replica has caught up).
 * The step between two servers of a rolling upgrade: a Raft leader stopped while a follower is still catching up
 * pauses the cluster's writes.
 */
@Command(name = "wait-ready", mixinStandardHelpOptions = true,
    description = "Wait until the agent is ready: it knows the leader, holds its lease and has caught up the database.",
    footer = {"", "Exit status: 0 ready, 1 not ready in time.", "",
        "Example (a rolling upgrade, one server at a time):",
        "  systemctl restart understudy && understudy server wait-ready --agent https://10.0.0.1:7700"})
final class WaitReady implements Callable<Integer> {
  @Mixin ConnectionOptions conn;
  @Option(names = "--timeout", defaultValue = "120s", description = "how long to wait, e.g. 90s or 5m (default 120s)")
  String timeout;

  @Override
  public Integer call() throws InterruptedException {
    long limitMillis;
    try {
      limitMillis = Durations.parse("--timeout", timeout).toMillis();
    } catch (ConfigException e) {
      throw new CliException(2, "--timeout: \"" + timeout + "\" is not a duration; use e.g. 90s or 5m");
    }
    Client client = conn.client();
    long deadline = System.currentTimeMillis() + limitMillis;
    String last = null;
    while (true) {
      String state = state(client);
      if (state == null) {
        System.out.println("ready");
        return 0;
      }
      if (!state.equals(last)) System.out.println("waiting: " + state);
      last = state;
      if (System.currentTimeMillis() >= deadline) {
        System.err.println("not ready after " + timeout + ": " + state);
        return 1;
      }
      Thread.sleep(250);
    }
  }

  /** Why the agent is not ready yet, or null when it is. */
  static String state(Client client) {
    try {
      return state(client.get("/healthz"));
    } catch (CliException e) {
      return "the agent does not answer (" + e.getMessage() + ")";
    }
  }

  /** The same from an answer; an agent of a build before readiness has no caughtUp: a leader and a lease suffice. */
  static String state(JsonNode h) {
    if (h.path("leader").asText().isEmpty()) return "no database leader known";
    if (!h.path("lease").asBoolean()) return "its lease is not held";
    if (!h.path("caughtUp").asBoolean(true)) return "its replica is catching up";
    return null;
  }
}
