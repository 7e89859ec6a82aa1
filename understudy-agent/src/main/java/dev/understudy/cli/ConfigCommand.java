package dev.understudy.cli;

import dev.understudy.agent.AgentConfig;
import dev.understudy.tls.TlsFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "config", mixinStandardHelpOptions = true, description = "Check an agent's configuration file.",
    subcommands = {ConfigCommand.Check.class})
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
}
