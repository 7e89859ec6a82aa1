package dev.understudy.cli;

import dev.understudy.tls.ClusterCa;
import dev.understudy.tls.TlsFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "tls", mixinStandardHelpOptions = true,
    description = "The cluster CA and the servers' certificates: every Raft connection between agents is mutual TLS.",
    subcommands = {TlsCommand.Init.class, TlsCommand.Issue.class})
final class TlsCommand {

  @Command(name = "init", mixinStandardHelpOptions = true,
      description = "Make the cluster CA (ca.crt, and ca.key readable by you only) in a new directory; once per cluster.",
      footer = {"", "Example:", "  understudy tls init --dir /root/understudy-ca"})
  static final class Init implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "where the CA is kept (keep ca.key off the servers if you can)") Path dir;
    @Option(names = "--cluster", defaultValue = "understudy", description = "the cluster's name, written into the CA's name") String cluster;

    @Override
    public Integer call() throws Exception {
      ClusterCa ca = ClusterCa.init(dir, cluster);
      System.out.println("made the cluster CA " + ca.certificate().getSubjectX500Principal().getName() + " in " + dir
          + " (valid until " + ca.certificate().getNotAfter() + ")");
      System.out.println("next, for each server: understudy tls issue ID --address ADDRESS --dir " + dir);
      return 0;
    }
  }

  @Command(name = "issue", mixinStandardHelpOptions = true,
      description = "Issue a server's key and certificate (ID.key, ID.crt) from the CA in --dir; issuing again replaces"
          + " them (a rotation: the agent uses the new pair from its next connection on, no restart).",
      footer = {"", "Example:", "  understudy tls issue s1 --address 10.0.0.1 --dir /root/understudy-ca",
          "then copy ca.crt, s1.crt and s1.key to s1 and name them in its agent.yaml (tls: ca, cert, key)."})
  static final class Issue implements Callable<Integer> {
    @Parameters(index = "0", description = "the server's id") String id;
    @Option(names = "--address", required = true, description = "an address peers dial this server at (IP or host name); repeat for several")
    List<String> addresses = new ArrayList<>();
    @Option(names = "--dir", required = true, description = "the CA's directory (from tls init)") Path dir;
    @Option(names = "--days", defaultValue = "825", description = "how long the certificate is valid (default: ${DEFAULT-VALUE})") int days;

    @Override
    public Integer call() throws Exception {
      if (days < 1 || days > 3650) throw new CliException(2, "--days must be 1-3650 (got " + days + ")");
      TlsFiles f = ClusterCa.open(dir).issue(id, addresses, Duration.ofDays(days));
      System.out.println("issued " + f.cert() + " and " + f.key() + " for " + id + " (" + String.join(", ", addresses) + ")");
      System.out.println("on " + id + ", agent.yaml (where you copy them):\n  tls:\n    ca: " + f.ca().toAbsolutePath() + "\n    cert: "
          + f.cert().toAbsolutePath() + "\n    key: " + f.key().toAbsolutePath());
      return 0;
    }
  }
}
