package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.store.Json;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Show servers (verdicts, leader) and apps (host, state, epoch).",
    footer = {"", "Example:", "  understudy status --json | jq '.apps[] | {tag, host}'"})
final class StatusCommand implements Callable<Integer> {
  @Mixin ConnectionOptions conn;

  @Option(names = "--json", description = "print JSON for scripts")
  boolean json;

  @Override
  public Integer call() throws Exception {
    JsonNode s = conn.client().get("/api/v1/status");
    if (json) {
      System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(s));
      return 0;
    }
    System.out.print(render(s));
    return 0;
  }

  static String render(JsonNode s) {
    StringBuilder b = new StringBuilder();
    b.append(String.format("SERVERS (as seen by %s)%n", s.path("self").asText()));
    b.append(String.format("  %-8s %-16s %-10s %-8s %s%n", "ID", "ADDRESS", "VERDICT", "ROLE", "EVIDENCE"));
    for (JsonNode sv : s.path("servers")) {
      String role = sv.path("leader").asBoolean() ? "leader" : sv.path("role").asText().equals("witness") ? "witness"
          : sv.path("voter").asBoolean() ? "voter" : "listener";
      String evidence = sv.path("self").asBoolean() ? "this agent; lease " + sv.path("leaseRemainingMs").asLong() + " ms left"
          : "LAN " + sv.path("lan").asText("?") + ", disk " + sv.path("disk").asText("?") + ", lease " + sv.path("lease").asText("?");
      b.append(String.format("  %-8s %-16s %-10s %-8s %s%n", sv.path("id").asText(), sv.path("address").asText(),
          sv.path("verdict").asText("?"), role, evidence));
    }
    b.append(String.format("APPS%n"));
    b.append(String.format("  %-14s %-6s %-17s %-8s %-12s %-6s %s%n", "TAG", "HOST", "STATE", "PRIMARY", "BACKUPS", "EPOCH", "NOTES"));
    for (JsonNode a : s.path("apps")) {
      StringBuilder notes = new StringBuilder();
      if (a.hasNonNull("stateReason")) notes.append(a.path("stateReason").asText());
      if (a.has("missing")) notes.append(notes.length() > 0 ? "; " : "").append("missing ").append(a.path("missing"));
      if (a.path("qualifiedBackups").isEmpty() && a.hasNonNull("host")) notes.append(notes.length() > 0 ? "; " : "").append("WARNING: no qualified backup");
      b.append(String.format("  %-14s %-6s %-17s %-8s %-12s %-6s %s%n", a.path("tag").asText(), a.path("host").asText("-"),
          a.path("state").asText(), a.path("primary").asText(), join(a.path("backups")), a.path("epoch").asLong(), notes));
    }
    return b.toString();
  }

  private static String join(JsonNode arr) {
    StringBuilder b = new StringBuilder();
    for (JsonNode n : arr) b.append(b.length() > 0 ? "," : "").append(n.asText());
    return b.toString();
  }
}
