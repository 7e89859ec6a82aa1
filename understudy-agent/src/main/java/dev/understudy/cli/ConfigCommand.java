package dev.understudy.cli;

import dev.understudy.agent.AgentConfig;
import dev.understudy.tls.TlsFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "config", mixinStandardHelpOptions = true, description = "Check an agent's configuration file, or have an agent reload it.",
    subcommands = {ConfigCommand.Check.class, ConfigCommand.Reload.class})
final class ConfigCommand {

  @Command(name = "check", mixinStandardHelpOptions = true,
      description = "Check a configuration as the agent would when it starts (keys, values, timing, TLS files), starting nothing.",
      footer = {"", "Exit code 2 names the first problem found.", "", "Example:", "  understudy config check /etc/understudy/agent.yaml"})
  static final class Check implements Callable<Integer> {
    @Parameters(index = "0", description = "the agent's YAML configuration file") Path file;

    @Override
    public Integer call() {
      AgentConfig c;
      try {
        c = AgentConfig.load(file);
      } catch (IllegalArgumentException e) {
        throw new CliException(2, file + ": " + e.getMessage());
      }
      TlsFiles.Material tls;
      try {
        tls = c.tls().files(Path.of("")).load();
      } catch (IOException | RuntimeException e) {
        throw new CliException(2, file + ": tls: " + e.getMessage());
      }
      System.out.printf("%s: ok. Server %s at %s (%s), %d servers in peers, API %s on port %d, Raft %d, heartbeats %d;"
              + " certificate %s valid until %s%n", file, c.server(), c.address(), c.isWitness() ? "witness" : "hosts apps",
          c.peers().size(), c.apiTls() ? "HTTPS" : "HTTP", c.apiPort(), c.raftPort(), c.heartbeatPort(),
          tls.leaf().getSubjectX500Principal().getName(), tls.leaf().getNotAfter().toInstant());
      return 0;
    }
  }

  @Command(name = "reload", mixinStandardHelpOptions = true,
      description = "Have the agent read its configuration file again (as SIGHUP does): notifications, inventory and apps apply now; other changed keys are named as taking effect at its next start.",
      footer = {"", "A file that does not validate changes nothing (exit 1 names the key). Restarting the agent moves nothing.", "",
          "Example:", "  understudy config reload --agent https://10.0.0.1:7700"})
  static final class Reload implements Callable<Integer> {
    @Mixin ConnectionOptions conn;

    @Override
    public Integer call() {
      JsonNode r = conn.client().post("/api/v1/agent/reload", "");
      System.out.println("applied: " + (r.path("applied").isEmpty() ? "nothing" : join(r.path("applied"))));
      if (!r.path("needRestart").isEmpty()) {
        System.out.println("at the agent's next start (systemctl restart understudy: its apps run on): " + join(r.path("needRestart")));
      }
      return 0;
    }

    private static String join(JsonNode keys) {
      StringBuilder b = new StringBuilder();
      for (JsonNode k : keys) b.append(b.length() == 0 ? "" : ", ").append(k.asText());
      return b.toString();
    }
  }
}
