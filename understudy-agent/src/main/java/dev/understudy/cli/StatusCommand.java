package dev.understudy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.store.Json;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Show servers (verdicts, leader) and apps (host, state, epoch).",
    footer = {"", "Exit code 4: the answering agent's view is not current (it cannot reach a majority, or its replica",
        "stopped applying): what it shows is the database as its replica last applied it.", "",
        "Example:", "  understudy status --json | jq '.apps[] | {tag, host}'"})
final class StatusCommand implements Callable<Integer> {
  @Mixin ConnectionOptions conn;

  @Option(names = "--json", description = "print JSON for scripts")
  boolean json;

  /** The answering agent's view is not current: a script must not take what it shows for the cluster's state. */
  static final int VIEW_NOT_CURRENT = 4;

  @Override
  public Integer call() throws Exception {
    JsonNode s = conn.client().get("/api/v1/status");
    int code = s.path("view").path("current").asBoolean(true) ? 0 : VIEW_NOT_CURRENT;
    if (json) {
      System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(s));
      return code;
    }
    System.out.print(render(s, System.currentTimeMillis()));
    return code;
  }

  /** What the answering agent's view is worth, first: a frozen view looks like a healthy one otherwise. */
  static String viewBanner(JsonNode s, long nowMillis) {
    JsonNode v = s.path("view");
    if (v.isMissingNode() || v.path("current").asBoolean(true)) return "";
    String self = s.path("self").asText();
    StringBuilder b = new StringBuilder();
    if (v.has("since")) {
      long since = v.path("since").asLong();
      b.append(String.format("VIEW FROZEN since %s (%d s ago): %s%n",
          java.time.Instant.ofEpochMilli(since).atZone(java.time.ZoneId.systemDefault()).toLocalTime().withNano(0),
          Math.max(0, (nowMillis - since) / 1000), v.path("reason").asText()));
    } else {
      b.append(String.format("VIEW NOT CURRENT: %s%n", v.path("reason").asText()));
    }
    StringBuilder stopped = new StringBuilder();
    for (JsonNode f : v.path("fenced")) {
      stopped.append(stopped.length() > 0 ? ", " : "").append(f.path("tag").asText()).append(" (epoch ").append(f.path("epoch").asLong()).append(')');
    }
    if (stopped.length() > 0) b.append(String.format("  %s's fence stopped: %s%n", self, stopped));
    return b.append(String.format("%n")).toString();
  }

  static String render(JsonNode s) { return render(s, System.currentTimeMillis()); }

  static String render(JsonNode s, long nowMillis) {
    StringBuilder b = new StringBuilder(viewBanner(s, nowMillis));
    JsonNode mt = s.path("maintenance");
    if (mt.path("cluster").asBoolean()) b.append(String.format("MAINTENANCE ON: the agents start, stop and move nothing (understudy maintenance off)%n%n"));
    String self = s.path("self").asText();
    b.append(String.format("SERVERS (as seen by %s)%n", self));
    b.append(String.format("  %-8s %-16s %-10s %-8s %s%n", "ID", "ADDRESS", "VERDICT", "ROLE", "EVIDENCE"));
    for (JsonNode sv : s.path("servers")) {
      String role = sv.path("leader").asBoolean() ? "leader" : sv.path("role").asText().equals("witness") ? "witness"
          : sv.path("voter").asBoolean() ? "voter" : "listener";
      String evidence = sv.path("self").asBoolean() ? "this agent; lease " + sv.path("leaseRemainingMs").asLong() + " ms left"
          : "LAN " + sv.path("lan").asText("?") + ", disk " + sv.path("disk").asText("?") + ", lease " + sv.path("lease").asText("?");
      for (JsonNode d : mt.path("drained")) if (d.asText().equals(sv.path("id").asText())) evidence += "; DRAINED";
      if (sv.path("restarting").asBoolean()) evidence += "; RESTARTING (its parting lease holds its apps)";
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
      for (JsonNode u : mt.path("unmanaged")) {
        if (u.asText().equals(a.path("tag").asText())) notes.append(notes.length() > 0 ? "; " : "").append("UNMANAGED");
      }
      String here = a.path("onThisServer").asText("");
      if (self.equals(a.path("host").asText()) && a.path("state").asText().equals("RUNNING") && here.equals("NOT_RUNNING")) {
        notes.append(notes.length() > 0 ? "; " : "").append("NOT running on ").append(self).append(" (recorded, not seen)");
      }
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
