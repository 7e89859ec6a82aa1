package dev.understudy.cli;

import picocli.CommandLine.Option;

/** --agent and --token, shared by every command that talks to a cluster. */
final class ConnectionOptions {
  @Option(names = "--agent", description = "agent API URL (default: $UNDERSTUDY_AGENT, else the local cluster's first agent)")
  String agent;

  @Option(names = "--token", description = "cluster API token (default: $UNDERSTUDY_TOKEN, else the local cluster's)")
  String token;

  Client client() { return Client.of(agent, token); }
}
