package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.store.Json;
import dev.understudy.tls.Pem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "snapshot", mixinStandardHelpOptions = true, description = "Back up the cluster database, and seed a new cluster from a backup.",
    subcommands = {SnapshotCommand.Save.class, SnapshotCommand.Restore.class})
final class SnapshotCommand {

  @Command(name = "save", mixinStandardHelpOptions = true,
      description = "Write a consistent copy of the cluster database (apps, markers, tombstones, maintenance) to FILE (0600: it holds apps' environment values).",
      footer = {"", "Needs the cluster token.", "",
          "With --from-replica, when a majority of servers is lost for good: this server's own replica, read with its agent",
          "stopped, to seed a new cluster (snapshot restore). It holds what this replica had applied: writes committed",
          "after that by the servers that are gone are not in it.", "",
          "Examples:", "  understudy snapshot save /var/backups/understudy-$(date +%F).json",
          "  systemctl stop understudy; understudy snapshot save --from-replica /etc/understudy/agent.yaml rescue.json"})
  static final class Save implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0", description = "the file to write") Path file;
    @picocli.CommandLine.Option(names = "--from-replica", paramLabel = "AGENT_YAML",
        description = "read this server's replica (its agent stopped) instead of asking the cluster: the way back after losing a majority")
    Path fromReplica;

    @Override
    public Integer call() throws IOException {
      JsonNode s = fromReplica != null ? fromReplica() : conn.client().get("/api/v1/snapshot");
      Pem.writePrivate(file, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(s));
      long apps = 0;
      for (var it = s.path("entries").fieldNames(); it.hasNext(); ) if (it.next().startsWith("apps/")) apps++;
      System.out.println("saved " + apps + " apps (" + s.path("entries").size() + " entries) of cluster " + s.path("cluster").asText() + " to " + file);
      return 0;
    }

    private JsonNode fromReplica() throws IOException {
      dev.understudy.agent.AgentConfig c;
      try {
        c = dev.understudy.agent.AgentConfig.load(fromReplica);
      } catch (IllegalArgumentException e) {
        throw new CliException(2, fromReplica + ": " + e.getMessage());
      }
      dev.understudy.agent.ReplicaExport.Copy copy;
      try {
        copy = dev.understudy.agent.ReplicaExport.read(c, java.time.Duration.ofSeconds(3));
      } catch (IOException | RuntimeException e) {
        throw new CliException(1, "cannot read " + c.server() + "'s replica (is its agent still running? stop it first): " + e.getMessage());
      }
      System.err.println("WARNING: this copy is " + c.server() + "'s own replica, applied up to log index " + copy.appliedIndex()
          + ". Writes the lost servers committed after that are not in it: an app's latest move, marker or attribute may be older"
          + " than what the cluster acknowledged. Seed a NEW cluster with it (snapshot restore); never restart the old servers into"
          + " the new one.");
      var m = new java.util.LinkedHashMap<String, Object>();
      m.put("format", "understudy-snapshot/1");
      m.put("takenMillis", System.currentTimeMillis());
      m.put("cluster", c.clusterName());
      m.put("entries", copy.entries());
      return Json.MAPPER.valueToTree(m);
    }
  }

  @Command(name = "restore", mixinStandardHelpOptions = true,
      description = "Seed this cluster, which must hold no app yet, from a snapshot: every app, marker and tombstone, in one write.",
      footer = {"", "An app starts again on its recorded host if that server is a member here, at the next epoch;",
          "else the first qualified server places it.", "", "Example:", "  understudy snapshot restore backup.json"})
  static final class Restore implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0", description = "a file written by snapshot save") Path file;

    @Override
    public Integer call() throws IOException {
      if (!Files.isRegularFile(file)) throw new CliException(2, file + " does not exist");
      JsonNode r = conn.client().post("/api/v1/snapshot/restore", Files.readString(file));
      System.out.println("restored " + r.path("restored").asInt() + " apps (" + r.path("entries").asInt() + " entries) from " + file);
      return 0;
    }
  }
}
