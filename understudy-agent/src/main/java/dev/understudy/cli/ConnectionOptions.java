package dev.understudy.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * --agent, --token-file and --ca, shared by every command that talks to a cluster. The token itself is never an argument:
 * every user of the machine can read a process's command line ({@code ps}).
 */
final class ConnectionOptions {
  @Option(names = "--agent", description = "agent API URL (default: $UNDERSTUDY_AGENT, else the local cluster's first agent)")
  String agent;

  @Option(names = "--token-file", description = "a file holding the cluster API token (default: $UNDERSTUDY_TOKEN, else the local cluster's)")
  Path tokenFile;

  @Option(names = "--ca", description = "the cluster CA's certificate (PEM) to trust an HTTPS agent with (default: $UNDERSTUDY_CA, else the local cluster's)")
  Path ca;

  Client client() { return Client.of(agent, token(), ca == null ? null : ca.toString()); }

  private String token() {
    if (tokenFile == null) return null;
    try {
      String t = Files.readString(tokenFile, StandardCharsets.UTF_8).trim();
      if (t.isEmpty()) throw new CliException(2, "--token-file " + tokenFile + " is empty");
      return t;
    } catch (IOException e) {
      throw new CliException(2, "cannot read --token-file " + tokenFile + ": " + e.getMessage());
    }
  }
}
