package dev.understudy.api;

import static org.awaitility.Awaitility.await;

import dev.understudy.agent.Agent;
import dev.understudy.agent.AgentConfig;
import dev.understudy.testing.Ports;
import dev.understudy.tls.ClusterCa;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A one-server cluster in this JVM, its agent with the cluster settings given, ready (leader elected, lease held). */
record OneAgent(Agent agent, String address, int port) implements AutoCloseable {
  static OneAgent start(String address, AgentConfig.Cluster cluster) throws Exception {
    Path dir = Files.createTempDirectory("one-agent");
    int port = Ports.free(address);
    var ca = ClusterCa.init(dir.resolve("tls"), cluster.name());
    Agent agent = Agent.start(new AgentConfig("s1", address, dir.resolve("data").toString(), cluster,
        new AgentConfig.Ports(port, Ports.free(address), Ports.freeUdp(address)),
        List.of(new AgentConfig.Peer("s1", address, null, null, null)), null, null, null, null, null, null, null, null,
        ApiTest.tls(ca, "s1", address)), ApiServer::start);
    await().atMost(Duration.ofSeconds(20)).until(() -> agent.store().leaderId().isPresent() && agent.leaseKeeper().valid());
    return new OneAgent(agent, address, port);
  }

  String base() { return "http://" + address + ":" + port; }

  @Override
  public void close() { agent.close(); }
}
