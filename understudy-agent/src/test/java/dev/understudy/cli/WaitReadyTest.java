package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.store.Json;
import org.junit.jupiter.api.Test;

/** What `server wait-ready` (and a local cluster's start) reads from an agent's /healthz. */
class WaitReadyTest {
  private static String state(String healthz) throws Exception { return WaitReady.state(Json.MAPPER.readTree(healthz)); }

  @Test
  void readyOnlyWithALeaderALeaseAndACaughtUpReplica() throws Exception {
    assertThat(state("{\"leader\":\"s1\",\"lease\":true,\"caughtUp\":true,\"ready\":true}")).isNull();
    assertThat(state("{\"leader\":\"\",\"lease\":false,\"caughtUp\":false,\"ready\":false}")).isEqualTo("no database leader known");
    assertThat(state("{\"leader\":\"s1\",\"lease\":false,\"caughtUp\":false,\"ready\":false}")).isEqualTo("its lease is not held");
    assertThat(state("{\"leader\":\"s1\",\"lease\":true,\"caughtUp\":false,\"ready\":false}")).isEqualTo("its replica is catching up");
  }

  /** Mid rolling upgrade, the new CLI asks an agent of the build before readiness: it must not wait for ever. */
  @Test
  void anAgentOfABuildBeforeReadinessIsReadyWithALeaderAndALease() throws Exception {
    assertThat(state("{\"ok\":true,\"server\":\"s2\",\"leader\":\"s1\",\"lease\":true}")).isNull();
    assertThat(state("{\"ok\":true,\"server\":\"s2\",\"leader\":\"s1\",\"lease\":false}")).isEqualTo("its lease is not held");
  }
}
