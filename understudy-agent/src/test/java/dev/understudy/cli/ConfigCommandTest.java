package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.tls.ClusterCa;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** #23: `understudy config check FILE` validates a configuration as the agent would, without starting one. */
class ConfigCommandTest {
  @TempDir Path dir;

  static CliRun run(String... args) { return CliRun.of(args); }

  Path config(String extra) throws Exception {
    Path tls = dir.resolve("tls");
    ClusterCa ca = Files.exists(tls.resolve(ClusterCa.CA_CERT)) ? ClusterCa.open(tls) : ClusterCa.init(tls, "c");
    var f = ca.issue("s1", List.of("10.0.0.1"), ClusterCa.SERVER_VALIDITY);
    return Files.writeString(dir.resolve("agent.yaml"), """
        server: s1
        address: 10.0.0.1
        dataDir: /var/lib/understudy
        cluster: {name: c, secret: 0123456789abcdef0123, token: fedcba9876543210fedc}
        peers:
          - {id: s1, address: 10.0.0.1}
          - {id: s2, address: 10.0.0.2}
          - {id: s3, address: 10.0.0.3}
        tls: {ca: %s, cert: %s, key: %s}
        """.formatted(f.ca(), f.cert(), f.key()) + extra);
  }

  @Test
  void aGoodConfigurationIsSummarised() throws Exception {
    CliRun r = run("config", "check", config("").toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("ok").contains("Server s1 at 10.0.0.1").contains("3 servers").contains("API HTTPS");
  }

  @Test
  void aBadKeyOrAMissingCertificateIsNamed() throws Exception {
    CliRun typo = run("config", "check", config("timing: {lease: soon}\n").toString());
    assertThat(typo.exit()).isEqualTo(2);
    assertThat(typo.err()).contains("timing.lease").contains("soon");
    Path good = config("");
    Files.delete(dir.resolve("tls").resolve("s1.crt"));
    CliRun noCert = run("config", "check", good.toString());
    assertThat(noCert.exit()).isEqualTo(2);
    assertThat(noCert.err()).contains("tls").contains("s1.crt");
  }
}
