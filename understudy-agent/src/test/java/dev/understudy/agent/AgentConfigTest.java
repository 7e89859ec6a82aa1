package dev.understudy.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AgentConfigTest {
  @TempDir Path dir;

  static final String GOOD = """
      server: s1
      address: 127.0.0.11
      dataDir: /tmp/x
      cluster: {name: c, secret: 0123456789abcdef0123, token: fedcba9876543210fedc}
      peers:
        - {id: s1, address: 127.0.0.11}
        - {id: s2, address: 127.0.0.12}
      tls: {ca: /etc/understudy/ca.crt, cert: /etc/understudy/s1.crt, key: /etc/understudy/s1.key}
      """;

  AgentConfig load(String yaml) throws Exception {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, yaml);
    return AgentConfig.load(f);
  }

  @Test
  void minimalConfigLoadsWithDefaults() throws Exception {
    AgentConfig c = load(GOOD);
    assertThat(c.apiPort()).isEqualTo(7700);
    assertThat(c.timingValues()).isEqualTo(Timing.profile("default"));
  }

  @Test
  void anAgentWithoutTlsFilesIsRefusedSayingHowToMakeThem() {
    String noTls = GOOD.replaceAll("(?m)^tls:.*\n", "");
    assertThatThrownBy(() -> load(noTls)).isInstanceOf(ConfigException.class).hasMessageContaining("tls")
        .hasMessageContaining("understudy tls init").hasMessageContaining("understudy tls issue s1 --address 127.0.0.11");
    assertThatThrownBy(() -> load(noTls + "tls: {ca: /a/ca.crt, cert: /a/s1.crt}\n")).hasMessageContaining("tls");
  }

  @Test
  void theApiIsHttpsOffLoopbackUnlessTurnedOff() throws Exception {
    AgentConfig loopback = load(GOOD);
    assertThat(loopback.apiTls()).isFalse();
    assertThat(loopback.apiUrl(loopback.peers().get(1))).isEqualTo("http://127.0.0.12:7700");
    String lan = GOOD.replace("127.0.0.1", "10.0.0.");
    assertThat(load(lan).apiTls()).isTrue();
    assertThat(load(lan).apiUrl(load(lan).peers().get(1))).isEqualTo("https://10.0.0.2:7700");
    String withMode = "tls: {ca: /etc/understudy/ca.crt, cert: /etc/understudy/s1.crt, key: /etc/understudy/s1.key, api: %s}";
    String lanOff = lan.replaceAll("(?m)^tls:.*$", withMode.formatted("off"));
    assertThat(load(lanOff).apiTls()).isFalse();
    assertThat(load(GOOD.replaceAll("(?m)^tls:.*$", withMode.formatted("on"))).apiTls()).isTrue();
    assertThatThrownBy(() -> load(GOOD.replaceAll("(?m)^tls:.*$", withMode.formatted("yes"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("tls.api").hasMessageContaining("yes");
  }

  /** #24: a misspelt kind in notifications.kinds silently filtered out every notification. */
  @Test
  void aNotificationKindThatDoesNotExistIsNamed() throws Exception {
    assertThat(load(GOOD + "notifications: {command: [\"true\"], kinds: [FAILOVER, SERVER_DOWN]}\n").notifications().kinds())
        .containsExactly("FAILOVER", "SERVER_DOWN");
    assertThatThrownBy(() -> load(GOOD + "notifications: {command: [\"true\"], kinds: [FAILOVER, SERVER_DWON]}\n"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("notifications.kinds").hasMessageContaining("SERVER_DWON")
        .hasMessageContaining("SERVER_DOWN");
  }

  @Test
  void unknownKeyIsNamed() {
    assertThatThrownBy(() -> load(GOOD + "colour: blue\n")).isInstanceOf(ConfigException.class).hasMessageContaining("colour");
    assertThatThrownBy(() -> load(GOOD + "timing: {heartbeatIntervall: 1s}\n")).hasMessageContaining("heartbeatIntervall");
  }

  @Test
  void badDurationIsNamed() {
    assertThatThrownBy(() -> load(GOOD + "timing: {lease: soon}\n")).hasMessageContaining("timing.lease").hasMessageContaining("soon");
  }

  @Test
  void wrongTypeIsNamed() {
    assertThatThrownBy(() -> load(GOOD + "ports: {api: lots}\n")).hasMessageContaining("ports.api");
  }

  @Test
  void forwardingSettingsAreReadAndBadOnesNamed() throws Exception {
    AgentConfig c = load(GOOD + "forwarding: {mode: kernel, maxConnectionsPerApp: 50, waitForHost: 3s, idleTimeout: 1m}\n");
    assertThat(c.kernelForwarding()).isTrue();
    assertThat(c.forwardingLimits()).isEqualTo(new dev.understudy.route.Forwarder.Limits(50, java.time.Duration.ofSeconds(3),
        java.time.Duration.ofMinutes(1)));
    assertThat(load(GOOD).kernelForwarding()).isFalse();
    assertThat(load(GOOD).forwardingLimits()).isEqualTo(dev.understudy.route.Forwarder.Limits.defaults());
    assertThatThrownBy(() -> load(GOOD + "forwarding: {mode: fast}\n")).hasMessageContaining("forwarding.mode")
        .hasMessageContaining("user or kernel");
    assertThatThrownBy(() -> load(GOOD + "forwarding: {maxConnectionsPerApp: 0}\n"))
        .hasMessageContaining("forwarding.maxConnectionsPerApp");
    assertThatThrownBy(() -> load(GOOD + "forwarding: {idleTimeout: 10ms}\n")).hasMessageContaining("forwarding.idleTimeout");
    assertThatThrownBy(() -> load(GOOD + "forwarding: {waitForHost: 1h}\n")).hasMessageContaining("forwarding.waitForHost");
    String v6 = GOOD.replace("address: 127.0.0.11\ndataDir", "address: ::1\ndataDir");
    assertThatThrownBy(() -> load(v6 + "forwarding: {mode: kernel}\n")).hasMessageContaining("forwarding.mode")
        .hasMessageContaining("IPv4");
  }

  @Test
  void missingFileAndBadYaml() {
    assertThatThrownBy(() -> AgentConfig.load(dir.resolve("nope.yaml"))).hasMessageContaining("does not exist");
    assertThatThrownBy(() -> load("server: 's1\nfoo: [\n")).hasMessageContaining("not valid YAML");
  }

  /** #21: a loopback agent without a token took any web page's cross-site POST as an operator's. */
  @Test
  void everyAgentNeedsAToken() {
    String noToken = GOOD.replace(", token: fedcba9876543210fedc", "");
    assertThatThrownBy(() -> load(noToken)).hasMessageContaining("cluster.token").hasMessageContaining("loopback");
    assertThatThrownBy(() -> load(noToken.replace("address: 127.0.0.11\ndataDir", "address: 0.0.0.0\ndataDir")))
        .hasMessageContaining("cluster.token");
  }

  @Test
  void peersMustIncludeSelfOnce() {
    assertThatThrownBy(() -> load(GOOD.replace("{id: s1, address: 127.0.0.11}", "{id: s3, address: 127.0.0.13}")))
        .hasMessageContaining("must include this server s1");
    assertThatThrownBy(() -> load(GOOD.replace("{id: s2, address: 127.0.0.12}", "{id: s1, address: 127.0.0.12}")))
        .hasMessageContaining("listed twice");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "heartbeatTimeout: 150ms | timing.heartbeatTimeout",
      "lease: 500ms, leaseRenew: 200ms | timing.lease",
      "lease: 500ms, leaseRenew: 100ms, electionTimeoutMax: 300ms | electionTimeoutMax",
      "guardTimeout: 900ms | guardTimeout",
      "leaseMargin: 1ms | leaseMargin",
      "restartLimit: 0, leaseRenew: 100ms | timing.restartLimit",
  })
  void unsafeTimingIsRefusedWithBothValues(String timing, String key) {
    assertThatThrownBy(() -> load(GOOD + "timing: {" + timing + "}\n")).isInstanceOf(ConfigException.class)
        .hasMessageContaining(key).hasMessageContaining("must be at least");
  }

  @Test
  void profilesAreValid() {
    for (String p : new String[] {"default", "fast", "relaxed"}) Timing.profile(p).validate();
  }
}
