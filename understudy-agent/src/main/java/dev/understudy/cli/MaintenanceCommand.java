package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** Taking things out of the agents' hands: the cluster (maintenance), a server (drain), an app (unmanage). */
final class MaintenanceCommand {
  private MaintenanceCommand() {}

  static int post(ConnectionOptions conn, String path, String done, String already) {
    JsonNode r = conn.client().post(path, "");
    System.out.println(r.path("changed").asBoolean() ? done : already);
    return 0;
  }

  @Command(name = "maintenance", mixinStandardHelpOptions = true,
      description = "Cluster maintenance mode: agents observe and report, and start, stop and move nothing (running apps keep running).",
      footer = {"", "A server that loses its lease is still fenced. On leaving, the agents act on what happened meanwhile.", "",
          "Examples:", "  understudy maintenance on", "  understudy maintenance off"})
  static final class Mode implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0", description = "on, off or show") String what;

    @Override
    public Integer call() {
      return switch (what) {
        case "on" -> post(conn, "/api/v1/maintenance/on", "maintenance on: the agents start, stop and move nothing", "maintenance was already on");
        case "off" -> post(conn, "/api/v1/maintenance/off", "maintenance off: the agents act again", "maintenance was already off");
        case "show" -> {
          JsonNode m = conn.client().get("/api/v1/maintenance");
          System.out.printf("cluster maintenance %s; drained: %s; unmanaged: %s%n", m.path("cluster").asBoolean() ? "ON" : "off",
              m.path("drained"), m.path("unmanaged"));
          yield 0;
        }
        default -> throw new CliException(2, "say on, off or show (got " + what + ")");
      };
    }
  }

  @Command(name = "drain", mixinStandardHelpOptions = true,
      description = "Move a server's apps away, one at a time, and keep new ones off it until `server resume`.")
  static final class Drain implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0", description = "the server") String id;

    @Override
    public Integer call() {
      return post(conn, "/api/v1/servers/" + id + "/drain", id + " drained: its apps move away one at a time", id + " was already drained");
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, description = "Let a drained server host apps again.")
  static final class Resume implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0", description = "the server") String id;

    @Override
    public Integer call() {
      return post(conn, "/api/v1/servers/" + id + "/resume", id + " resumed", id + " was not drained");
    }
  }

  @Command(name = "unmanage", mixinStandardHelpOptions = true,
      description = "Leave an app alone: the agents neither start, stop nor move it, wherever it runs or does not.")
  static final class Unmanage implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0") String tag;

    @Override
    public Integer call() {
      return post(conn, "/api/v1/apps/" + tag + "/unmanage", tag + " unmanaged", tag + " was already unmanaged");
    }
  }

  @Command(name = "manage", mixinStandardHelpOptions = true, description = "Give an unmanaged app back to the agents.")
  static final class Manage implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0") String tag;

    @Override
    public Integer call() {
      return post(conn, "/api/v1/apps/" + tag + "/manage", tag + " managed again", tag + " was not unmanaged");
    }
  }
}
