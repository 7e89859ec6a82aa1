package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.understudy.testing.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code app apply -f} and {@code app export} against real agents (#22): every field of a definition round-trips, a
 * dry run prints the change field by field and changes nothing, and a malformed or refused definition anywhere in
 * the files names file, line and field and changes nothing at all.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AppFilesTest {
  static Path dir = Path.of("target", "appfiles-" + System.nanoTime()).toAbsolutePath();
  LocalCluster lc;
  Path tokenFile;

  @BeforeAll
  void up() throws Exception {
    lc = LocalCluster.up(dir.resolve("cluster"), 2, Ports.free("127.0.0.11"), null, false, null);
    tokenFile = Files.writeString(dir.resolve("token"), lc.token());
  }

  @AfterAll
  void down() throws Exception {
    if (lc != null) lc.down();
  }

  CliRun cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    int end = all.indexOf("--"); // options go before the command that follows --
    all.addAll(end < 0 ? all.size() : end, List.of("--agent", lc.apiUrl("s1"), "--token-file", tokenFile.toString()));
    return CliRun.of(all.toArray(String[]::new));
  }

  String everyField() {
    return """
        # the app itself, with every field an operator sets
        tag: db
        type: capable
        command:
          argv: [sleep, "100000"]
          workDir: /tmp
          env: {PGDATA: /srv/db, MODE: primary}
          stopCommand: [sh, -c, "kill $(cat /tmp/none) 2>/dev/null; true"]
          stopTimeoutMs: 3000
          startTimeoutMs: 20000
          health: {command: ["true"], intervalMs: 1000, timeoutMs: 500, failures: 3}
        primary: s1
        backups: [s2]
        resources: ["cpu:1", "label:none-needed-here"]
        managed:
          - {name: scratch, start: ["true"], stop: ["true"], check: ["true"], timeoutMs: 5000}
        autoFailback: true
        service: {clusterPort: %d, appPort: %d}
        attributes: {owner: dba, tier: gold}
        ---
        tag: cache
        command: {argv: [sleep, "100000"]}
        primary: s2
        backups: [s1]
        """.formatted(Ports.free("127.0.0.11"), Ports.free("127.0.0.11"));
  }

  int apps() { return lc.client("s1").get("/api/v1/apps").size(); }

  /** Writes {@code yaml} to {@code file} and applies it. */
  CliRun applyFile(String file, String yaml) throws java.io.IOException {
    return cli("app", "apply", "-f", Files.writeString(dir.resolve(file), yaml).toString());
  }

  @Test
  void definitionsRoundTripAndADryRunChangesNothing() throws Exception {
    Path f = Files.writeString(dir.resolve("apps.yaml"), everyField().replace("label:none-needed-here", "cpu:1"));
    CliRun dry = cli("app", "apply", "-f", f.toString(), "--dry-run");
    assertThat(dry.exit()).as(dry.err()).isZero();
    assertThat(dry.out()).contains("would create db").contains("would create cache").contains("nothing changed");
    assertThat(lc.client("s1").find("/api/v1/apps/db")).as("a dry run creates nothing").isNull();

    CliRun applied = cli("app", "apply", "-f", f.toString());
    assertThat(applied.exit()).as(applied.err()).isZero();
    assertThat(applied.out()).contains("create db").contains("create cache");
    JsonNode db = lc.client("s1").get("/api/v1/apps/db");
    assertThat(db.path("command").path("env").path("PGDATA").asText()).isEqualTo("/srv/db");
    assertThat(db.path("managed").get(0).path("name").asText()).isEqualTo("scratch");

    CliRun exported = cli("app", "export", "db", "cache");
    assertThat(exported.exit()).as(exported.err()).isZero();
    assertThat(exported.out()).contains("tag: db").contains("PGDATA").contains("stopTimeoutMs: 3000").contains("startTimeoutMs: 20000")
        .contains("intervalMs: 1000").contains("clusterPort").contains("owner: dba").contains("scratch").doesNotContain("epoch")
        .doesNotContain("state:");
    Path back = Files.writeString(dir.resolve("exported.yaml"), exported.out());
    CliRun again = cli("app", "apply", "-f", back.toString());
    assertThat(again.out()).as("what export printed applies as no change").contains("unchanged db").contains("unchanged cache")
        .contains("0 to create, 0 to change, 2 unchanged");

    Files.writeString(back, exported.out().replace("owner: dba", "owner: ops"));
    CliRun diff = cli("app", "apply", "-f", back.toString(), "--dry-run");
    assertThat(diff.out()).contains("would change db").contains("attributes:").contains("\"owner\":\"dba\"").contains("\"owner\":\"ops\"");
    assertThat(lc.client("s1").get("/api/v1/apps/db").path("attributes").path("owner").asText()).isEqualTo("dba");
    assertThat(cli("app", "apply", "-f", back.toString()).exit()).isZero();
    assertThat(lc.client("s1").get("/api/v1/apps/db").path("attributes").path("owner").asText()).isEqualTo("ops");
  }

  @Test
  void aMalformedDefinitionNamesFileLineAndFieldAndChangesNothing() throws Exception {
    int before = apps();
    Path typo = Files.writeString(dir.resolve("typo.yaml"), """
        tag: good-one
        command: {argv: ["true"]}
        primary: s1
        backups: [s2]
        ---
        tag: bad-one
        comand: {argv: ["true"]}
        primary: s1
        backups: [s2]
        """);
    CliRun r = cli("app", "apply", "-f", typo.toString());
    assertThat(r.exit()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).contains("typo.yaml line 7").contains("unknown field 'comand'");

    Path wrongType = Files.writeString(dir.resolve("type.yaml"), """
        tag: typed
        command: {argv: ["true"], stopTimeoutMs: soon}
        primary: s1
        backups: [s2]
        """);
    CliRun t = cli("app", "apply", "-f", wrongType.toString());
    assertThat(t.exit()).isEqualTo(2);
    assertThat(t.err()).contains("type.yaml line 2").contains("command.stopTimeoutMs");

    Path refused = Files.writeString(dir.resolve("refused.yaml"), """
        tag: fine
        command: {argv: ["true"]}
        primary: s1
        backups: [s2]
        ---
        tag: nowhere
        command: {argv: ["true"]}
        primary: s1
        backups: [s9]
        """);
    CliRun n = cli("app", "apply", "-f", refused.toString());
    assertThat(n.exit()).as(n.err()).isEqualTo(2);
    assertThat(n.err()).contains("refused.yaml line 6").contains("app nowhere").contains("s9").contains("nothing was changed");
    assertThat(apps()).as("not even the good definitions before the bad one").isEqualTo(before);
    assertThat(lc.client("s1").find("/api/v1/apps/fine")).isNull();
  }

  /** #22: the CLI could not set a health check, a stop command or timeout, a start timeout, an environment or a user. */
  @Test
  void appAddSetsTheCommonFieldsAndExportShowsThem() {
    CliRun added = cli("app", "add", "flags", "--primary", "s1", "--backup", "s2", "--env", "MODE=test", "--env", "LEVEL=0755",
        "--stop-command", "kill -TERM 0", "--stop-timeout-ms", "4000", "--start-timeout-ms", "9000",
        "--health-command", "test -d /", "--health-interval-ms", "700", "--workdir", "/tmp", "--", "sleep", "100000");
    assertThat(added.exit()).as(added.err()).isZero();
    String yaml = cli("app", "export", "flags").out();
    assertThat(yaml).contains("MODE: test").contains("LEVEL: \"0755\"").contains("kill -TERM 0").contains("stopTimeoutMs: 4000")
        .contains("startTimeoutMs: 9000").contains("test -d /").contains("intervalMs: 700").contains("workDir: /tmp");
    CliRun twoChecks = cli("app", "add", "x", "--primary", "s1", "--backup", "s2", "--health-port", "1", "--health-http", "http://a/", "--", "true");
    assertThat(twoChecks.exit()).isEqualTo(2);
    assertThat(twoChecks.err()).contains("one of --health-port, --health-http, --health-command");
    CliRun vipAlone = cli("app", "add", "y", "--primary", "s1", "--backup", "s2", "--vip", "10.0.0.50", "--", "true");
    assertThat(vipAlone.exit()).isEqualTo(2);
    assertThat(vipAlone.err()).contains("--vip needs --port");
    assertThat(lc.client("s1").find("/api/v1/apps/x")).isNull();
  }

  /**
   * #22: an OCF resource agent as the app, defined in a file: its parameters are checked against its meta-data when it
   * is defined (an unknown or a missing required one is an error naming it), its advised timeouts fill in those the
   * file leaves out, and it is started, moved and stopped through its own actions. Debian's Dummy and IPaddr2.
   */
  @Test
  void anOcfAgentAppIsCheckedAgainstItsMetaDataAndRunsThroughItsActions() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/lib/ocf/resource.d/heartbeat/Dummy")), "resource-agents is not installed");
    CliRun missing = applyFile("vip.yaml", """
        tag: vip
        command: {argv: ["ocf:heartbeat:IPaddr2", "cidr_netmask=24"]}
        primary: s1
        backups: [s2]
        """);
    assertThat(missing.exit()).as(missing.err()).isEqualTo(2);
    assertThat(missing.err()).contains("command.argv").contains("ocf:heartbeat:IPaddr2 needs ip=...");
    CliRun unknown = applyFile("typo-ocf.yaml", """
        tag: dummy
        command: {argv: ["ocf:heartbeat:Dummy", "stat=/tmp/x"]}
        primary: s1
        backups: [s2]
        """);
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.err()).contains("ocf:heartbeat:Dummy has no parameter stat").contains("it has state, fake");

    Path state = dir.resolve("dummy.state");
    Path good = Files.writeString(dir.resolve("dummy.yaml"), """
        tag: dummy
        command:
          argv: ["ocf:heartbeat:Dummy", "state=%s"]
          health: {intervalMs: 500}
        primary: s1
        backups: [s2]
        """.formatted(state));
    CliRun applied = cli("app", "apply", "-f", good.toString());
    assertThat(applied.exit()).as(applied.err()).isZero();
    awaitRunningOn("dummy", "s1");
    assertThat(state).as("Dummy's start ran").exists();
    assertThat(cli("app", "export", "dummy").out()).as("the agent's advised timeouts").contains("startTimeoutMs: 20000")
        .contains("stopTimeoutMs: 20000");
    assertThat(cli("app", "apply", "-f", good.toString(), "--dry-run").out()).as("the file again is no change").contains("unchanged dummy");

    assertThat(cli("app", "move", "dummy", "s2").exit()).isZero();
    awaitRunningOn("dummy", "s2");
    assertThat(state).exists();
    assertThat(cli("app", "remove", "dummy").exit()).isZero();
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> lc.client("s1").find("/api/v1/apps/dummy") == null);
    assertThat(state).as("its stop ran").doesNotExist();
  }

  void awaitRunningOn(String tag, String server) {
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> {
      JsonNode a = lc.client("s1").find("/api/v1/apps/" + tag);
      return a != null && server.equals(a.path("host").asText()) && "RUNNING".equals(a.path("state").asText());
    });
  }
}
