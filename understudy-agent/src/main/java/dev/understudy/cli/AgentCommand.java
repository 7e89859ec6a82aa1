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
    Agent agent = Agent.start(c, dev.understudy.api.ApiServer::start);
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      agent.close();
      done.countDown();
    }, "shutdown"));
    done.await();
    return 0;
  }
}
