package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.store.Json;
import java.io.Console;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "app", mixinStandardHelpOptions = true, description = "Add, show, move, unload, load and remove clustered apps.",
    subcommands = {AppCommand.Add.class, AppCommand.ListApps.class, AppCommand.Show.class, AppCommand.Remove.class,
        AppCommand.Unload.class, AppCommand.Load.class, AppCommand.Move.class, AppCommand.Approve.class,
        AppCommand.Reset.class, AppApply.class, AppExport.class,
        MaintenanceCommand.Unmanage.class, MaintenanceCommand.Manage.class})
final class AppCommand {

  static void print(JsonNode n) throws Exception {
    System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(n));
  }

  @Command(name = "add", mixinStandardHelpOptions = true, description = "Register an app (patent FIG. 6). Prompts for missing attributes in a terminal.",
      footer = {"", "Example:", "  understudy app add web --primary s1 --backup s2 --port 8080:9080 --auto-failback -- python3 -m http.server 9080"})
  static final class Add implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0", arity = "0..1", description = "the app's tag") String tag;
    @Option(names = "--primary") String primary;
    @Option(names = "--backup", description = "a backup server, in order; repeat for more") List<String> backups = new ArrayList<>();
    @Option(names = "--type", defaultValue = "capable", description = "capable or aware") String type;
    @Option(names = "--port", description = "CLUSTER_PORT:APP_PORT clients use and the app listens on") String port;
    @Option(names = "--resource", description = "a requirement: exec:/path, path:/dir, port:N, cpu:N, memory:SIZE, label:NAME") List<String> resources = new ArrayList<>();
    @Option(names = "--auto-failback", description = "move back to the primary automatically when it returns") boolean autoFailback;
    @Option(names = "--stop-timeout-ms", description = "how long a stop may take before the app's group is killed (default 5000)") Long stopTimeoutMs;
    @Option(names = "--stop-command", description = "run (by sh -c, as the app's user) to stop the app, instead of SIGTERM") String stopCommand;
    @Option(names = "--start-timeout-ms", description = "how long a start may take to become healthy (default 60000)") Long startTimeoutMs;
    @Option(names = "--env", description = "KEY=VALUE in the app's environment; repeat for more") Map<String, String> env = new LinkedHashMap<>();
    @Option(names = "--user", description = "run the app as this user (the agent must be root)") String user;
    @Option(names = "--group", description = "and this group") String group;
    @Option(names = "--workdir", description = "the app's working directory (default: its own under the agent's data directory)") String workDir;
    @Option(names = "--health-port", description = "healthy while this TCP port accepts connections") Integer healthPort;
    @Option(names = "--health-http", description = "healthy while this URL answers below 400") String healthHttp;
    @Option(names = "--health-command", description = "healthy while this (sh -c, as the app's user) exits 0") String healthCommand;
    @Option(names = "--health-interval-ms", description = "between health checks (default 2000)") Long healthIntervalMs;
    @Option(names = "--vip", description = "a virtual IP address (e.g. 10.0.0.50) that moves with the app; needs --port and --vip-interface") String vip;
    @Option(names = "--vip-interface", description = "the interface the virtual IP goes on") String vipInterface;
    @Option(names = "--attr", description = "KEY=VALUE extra attribute") Map<String, String> attrs = new LinkedHashMap<>();
    @Option(names = "--json") boolean json;
    @Parameters(index = "1..*", description = "the command after --") List<String> command = new ArrayList<>();

    private Map<String, Object> commandSpec() {
      Map<String, Object> cmd = new LinkedHashMap<>();
      cmd.put("argv", command);
      if (workDir != null) cmd.put("workDir", workDir);
      if (!env.isEmpty()) cmd.put("env", env);
      if (stopCommand != null) cmd.put("stopCommand", List.of("sh", "-c", stopCommand));
      if (stopTimeoutMs != null) cmd.put("stopTimeoutMs", stopTimeoutMs);
      if (startTimeoutMs != null) cmd.put("startTimeoutMs", startTimeoutMs);
      if (user != null) cmd.put("user", user);
      if (group != null) cmd.put("group", group);
      Map<String, Object> health = new LinkedHashMap<>();
      if (healthPort != null) health.put("port", healthPort);
      if (healthHttp != null) health.put("http", healthHttp);
      if (healthCommand != null) health.put("command", List.of("sh", "-c", healthCommand));
      if (health.size() > 1) throw new CliException(2, "give one of --health-port, --health-http, --health-command");
      if (healthIntervalMs != null) {
        if (health.isEmpty()) throw new CliException(2, "--health-interval-ms needs a health check (--health-port, --health-http or --health-command)");
        health.put("intervalMs", healthIntervalMs);
      }
      if (!health.isEmpty()) cmd.put("health", health);
      return cmd;
    }

    @Override
    public Integer call() throws Exception {
      Console con = System.console();
      if (con != null) { // claim 2: the operator is prompted for what is missing
        if (tag == null) tag = con.readLine("tag (name of the app): ");
        if (primary == null) primary = con.readLine("primary server: ");
        if (backups.isEmpty()) backups.addAll(Arrays.asList(con.readLine("backup servers, in order (space separated): ").trim().split("\\s+")));
        if (command.isEmpty()) command.addAll(Arrays.asList(con.readLine("command to run: ").trim().split("\\s+")));
      }
      if (tag == null || primary == null || backups.isEmpty() || command.isEmpty()) {
        throw new CliException(2, "tag, --primary, at least one --backup and a command after -- are required");
      }
      Map<String, Object> spec = new LinkedHashMap<>();
      spec.put("tag", tag);
      spec.put("type", type.toUpperCase());
      spec.put("command", commandSpec());
      spec.put("primary", primary);
      spec.put("backups", backups);
      spec.put("resources", resources);
      spec.put("autoFailback", autoFailback);
      if (port != null) {
        String[] p = port.split(":");
        Map<String, Object> service = new LinkedHashMap<>();
        try {
          service.put("clusterPort", Integer.parseInt(p[0]));
          service.put("appPort", Integer.parseInt(p.length > 1 ? p[1] : p[0]));
        } catch (NumberFormatException e) {
          throw new CliException(2, "--port must be CLUSTER_PORT:APP_PORT, e.g. 8080:9080");
        }
        if (vip != null) service.put("virtualIp", vip);
        if (vipInterface != null) service.put("virtualIpInterface", vipInterface);
        spec.put("service", service);
      } else if (vip != null) {
        throw new CliException(2, "--vip needs --port: the virtual IP is where clients reach the app's cluster port");
      }
      spec.put("attributes", attrs);
      JsonNode r = conn.client().post("/api/v1/apps", spec);
      if (json) print(r);
      else System.out.println("added " + tag + ": primary " + primary + ", backups " + backups + "; host " + r.path("host").asText());
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List apps.")
  static final class ListApps implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Option(names = "--json") boolean json;

    @Override
    public Integer call() throws Exception {
      JsonNode s = conn.client().get("/api/v1/status");
      if (json) print(s.path("apps"));
      else System.out.print(StatusCommand.render(s).replaceAll("(?s)^.*?APPS", "APPS"));
      return 0;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one app, with which backups qualify and where it would go next.")
  static final class Show implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0") String tag;

    @Override
    public Integer call() throws Exception {
      print(conn.client().get("/api/v1/apps/" + tag));
      return 0;
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove an app (its host stops it first).")
  static final class Remove implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0") String tag;

    @Override
    public Integer call() {
      conn.client().delete("/api/v1/apps/" + tag);
      System.out.println("removed " + tag);
      return 0;
    }
  }

  @Command(name = "unload", mixinStandardHelpOptions = true, description = "Stop the app and leave it unloaded (nothing restarts it until load).")
  static final class Unload implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0") String tag;

    @Override
    public Integer call() {
      conn.client().post("/api/v1/apps/" + tag + "/unload", "");
      System.out.println("unloading " + tag);
      return 0;
    }
  }

  @Command(name = "load", mixinStandardHelpOptions = true, description = "Load an unloaded or FAILED app on its primary (its counted failures are forgotten).")
  static final class Load implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0") String tag;

    @Override
    public Integer call() {
      conn.client().post("/api/v1/apps/" + tag + "/load", "");
      System.out.println("loading " + tag);
      return 0;
    }
  }

  @Command(name = "move", mixinStandardHelpOptions = true, description = "Planned switchover to a named server (never runs on two at once).",
      footer = {"", "Example:", "  understudy app move web s3"})
  static final class Move implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0") String tag;
    @Parameters(index = "1") String to;

    @Override
    public Integer call() {
      conn.client().post("/api/v1/apps/" + tag + "/move", Map.of("to", to));
      System.out.println("moving " + tag + " to " + to);
      return 0;
    }
  }

  @Command(name = "approve", mixinStandardHelpOptions = true, description = "Approve a pending failback to the primary.")
  static final class Approve implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0") String tag;

    @Override
    public Integer call() {
      conn.client().post("/api/v1/apps/" + tag + "/approve-failback", "");
      System.out.println("failback of " + tag + " approved");
      return 0;
    }
  }

  @Command(name = "reset", mixinStandardHelpOptions = true,
      description = "Forget the failures every server counted for the app: a server passed over for it qualifies again, and a FAILED app is placed again.",
      footer = {"", "Example (after fixing what made it fail everywhere):", "  understudy app reset web"})
  static final class Reset implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0") String tag;

    @Override
    public Integer call() {
      conn.client().post("/api/v1/apps/" + tag + "/reset", "");
      System.out.println("failures of " + tag + " reset");
      return 0;
    }
  }
}
