package dev.understudy.cli;

import dev.understudy.agent.Agent;
import dev.understudy.agent.AgentConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "agent", mixinStandardHelpOptions = true, description = "Run an agent (one per server).",
    footer = {"", "Example:", "  understudy agent --config /etc/understudy/agent.yaml"})
final class AgentCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, description = "the agent's YAML configuration file")
  Path config;

  @Override
  public Integer call() throws Exception {
    AgentConfig c;
    try {
      c = AgentConfig.load(config);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      return 2;
    }
    // A thread killed by an Error the JVM cannot recover from (out of memory, stack overflow) leaves an agent that
    // renews nothing, detects nothing or forwards nothing while looking alive: exit, and let the service manager
    // restart it (the fence stops its apps meanwhile). -XX:+ExitOnOutOfMemoryError covers pools that swallow errors.
    Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
      if (e instanceof VirtualMachineError) {
        System.err.println("understudy agent: " + e + " in thread " + t.getName() + "; exiting");
        Runtime.getRuntime().halt(70);
      }
      System.err.println("understudy agent: uncaught " + e + " in thread " + t.getName());
      e.printStackTrace();
    });
    Agent agent = Agent.start(c, dev.understudy.api.ApiServer::start);
    agent.configFile(config);
    // a cluster written in a format this build cannot read: the agent has stopped, saying why; not a crash to retry at once
    agent.afterRefusal(() -> System.exit(2));
    // SIGHUP reads the file again, as `understudy config reload` does: what is safe applies, the rest waits for a restart
    sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> {
      try {
        agent.reload();
      } catch (IllegalArgumentException e) {
        System.err.println("understudy agent: configuration not reloaded, nothing changed: " + e.getMessage());
      }
    });
    CountDownLatch done = new CountDownLatch(1);
    // SIGTERM is a restart (systemd's, an upgrade's): the apps run on for the next start to adopt (timing.restartGrace)
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      agent.closeForRestart();
      done.countDown();
    }, "shutdown"));
    done.await();
    return 0;
  }
}
