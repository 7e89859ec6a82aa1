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
      footer = {"", "Needs the cluster token.", "", "Example:", "  understudy snapshot save /var/backups/understudy-$(date +%F).json"})
  static final class Save implements Callable<Integer> {
    @Mixin ConnectionOptions conn;
    @Parameters(index = "0", description = "the file to write") Path file;

    @Override
    public Integer call() throws IOException {
      JsonNode s = conn.client().get("/api/v1/snapshot");
      Pem.writePrivate(file, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(s));
      long apps = 0;
      for (var it = s.path("entries").fieldNames(); it.hasNext(); ) if (it.next().startsWith("apps/")) apps++;
      System.out.println("saved " + apps + " apps (" + s.path("entries").size() + " entries) of cluster " + s.path("cluster").asText() + " to " + file);
      return 0;
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
