package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.store.Json;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "server", mixinStandardHelpOptions = true,
    description = "List, add, remove, drain and resume servers of a running cluster; wait for an agent to be ready.",
    subcommands = {ServerCommand.ListServers.class, ServerCommand.Add.class, ServerCommand.Remove.class,
        MaintenanceCommand.Drain.class, MaintenanceCommand.Resume.class, WaitReady.class})
final class ServerCommand {

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Servers with their verdicts as this agent sees them.")
  static final class ListServers implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Option(names = "--json") boolean json;

    @Override
    public Integer call() throws Exception {
      JsonNode s = conn.client().get("/api/v1/status");
      if (json) System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(s.path("servers")));
      else System.out.print(StatusCommand.render(s).replaceAll("(?s)APPS.*$", ""));
      return 0;
    }
  }

  @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a server: start its agent first; its config lists every member, itself last.",
      footer = {"", "Example:", "  understudy server add s4 10.0.0.4"})
  static final class Add implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0") String id;
    @Parameters(index = "1") String address;
    @Option(names = "--api-port") Integer apiPort;
    @Option(names = "--raft-port") Integer raftPort;
    @Option(names = "--heartbeat-port") Integer heartbeatPort;

    @Override
    public Integer call() {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("id", id);
      body.put("address", address);
      if (apiPort != null) body.put("apiPort", apiPort);
      if (raftPort != null) body.put("raftPort", raftPort);
      if (heartbeatPort != null) body.put("heartbeatPort", heartbeatPort);
      JsonNode r = conn.client().post("/api/v1/servers", body);
      System.out.println("added " + id + " (" + (r.path("voter").asBoolean() ? "voter" : "non-voting listener") + ")");
      return 0;
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove a server no app names any more.")
  static final class Remove implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0") String id;

    @Override
    public Integer call() {
      conn.client().delete("/api/v1/servers/" + id);
      System.out.println("removed " + id + "; stop its agent now");
      return 0;
    }
  }
}
