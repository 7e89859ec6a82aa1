package dev.understudy.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of bin/understudy. */
@Command(name = "understudy", mixinStandardHelpOptions = true, version = "understudy " + dev.understudy.agent.Build.VERSION,
    description = "Application failover cluster manager. Start with: understudy demo",
    subcommands = {AgentCommand.class, LocalCommand.class, StatusCommand.class, AppCommand.class, ServerCommand.class,
        EventsCommand.class, WhyCommand.class, TlsCommand.class, ConfigCommand.class, MaintenanceCommand.Mode.class, SnapshotCommand.class, SimulateCommand.class, DemoCommand.class, HelloService.class, DistFiles.class, CommandLine.HelpCommand.class},
    footer = {"", "Exit codes: 0 ok, 1 the cluster refused or failed the request, 2 bad usage or input,",
        "3 (simulate) some app would find no server, 4 (status) the answering agent's view is not current."})
public final class Main {
  public static void main(String[] args) {
    dev.understudy.store.RaftStore.pooledAsyncSteps(); // before anything in this JVM uses the common pool
    dev.understudy.run.ProcessGroups.preferVfork(); // before anything in this JVM spawns a process
    dev.understudy.store.RaftStore.smallerNettyPools(); // before anything in this JVM talks gRPC
    System.exit(run(args));
  }

  public static int run(String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof CliException ce) {
        cmd.getErr().println("error: " + ce.getMessage());
        return ce.exitCode;
      }
      if (e instanceof IllegalArgumentException) {
        cmd.getErr().println("error: " + e.getMessage());
        return 2;
      }
      if (e instanceof java.io.IOException) { // a file that is missing, unreadable or already there: say which
        cmd.getErr().println("error: " + e.getMessage());
        return 1;
      }
      throw e;
    });
    return cl.execute(args);
  }
}
