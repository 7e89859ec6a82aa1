package dev.understudy.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The first word of an app's command names a resource agent: its forms, and a clear error for each malformed one. */
class AgentSpecTest {
  @Test
  void readsTheThreeStandards() {
    AgentSpec ocf = AgentSpec.of(List.of("ocf:heartbeat:IPaddr2", "ip=10.0.0.50", "cidr_netmask=24")).orElseThrow();
    assertThat(ocf.standard()).isEqualTo(AgentSpec.Standard.OCF);
    assertThat(ocf.provider()).isEqualTo("heartbeat");
    assertThat(ocf.type()).isEqualTo("IPaddr2");
    assertThat(ocf.params()).containsExactly(Map.entry("ip", "10.0.0.50"), Map.entry("cidr_netmask", "24"));
    assertThat(ocf.name()).isEqualTo("ocf:heartbeat:IPaddr2");
    assertThat(AgentSpec.of(List.of("lsb:nginx")).orElseThrow().standard()).isEqualTo(AgentSpec.Standard.LSB);
    assertThat(AgentSpec.of(List.of("systemd:nginx.service")).orElseThrow().type()).isEqualTo("nginx.service");
    assertThat(AgentSpec.of(List.of("/usr/bin/ocf:x"))).as("a program").isEmpty();
    assertThat(AgentSpec.of(List.of("ocf:p:T", "opts=a=b")).orElseThrow().params()).containsEntry("opts", "a=b");
  }

  @Test
  void malformedOnesSayWhatIsWrong() {
    assertThatThrownBy(() -> AgentSpec.of(List.of("ocf:IPaddr2"))).hasMessageContaining("must be ocf:PROVIDER:TYPE");
    assertThatThrownBy(() -> AgentSpec.of(List.of("ocf:heartbeat:IPaddr2", "10.0.0.50"))).hasMessageContaining("\"10.0.0.50\" must be a parameter as name=value");
    assertThatThrownBy(() -> AgentSpec.of(List.of("ocf:heartbeat:IPaddr2", "ip-addr=1"))).hasMessageContaining("parameter name \"ip-addr\"");
    assertThatThrownBy(() -> AgentSpec.of(List.of("ocf:heartbeat:IPaddr2", "ip=1", "ip=2"))).hasMessageContaining("ip is given twice");
    assertThatThrownBy(() -> AgentSpec.of(List.of("lsb:nginx", "x=1"))).hasMessageContaining("takes no parameters");
    assertThatThrownBy(() -> AgentSpec.of(List.of("systemd:nginx"))).hasMessageContaining("systemd:NAME.service");
    assertThatThrownBy(() -> AgentSpec.of(List.of("ocf:../..:x"))).hasMessageContaining("must be ocf:PROVIDER:TYPE");
  }

  @Test
  void theValidatorNamesTheFieldAndRefusesAStopCommandBesideAnAgent() {
    App bad = App.create("a", AppType.CAPABLE, Command.of("ocf:heartbeat"), "s1", List.of("s2"), List.of(), false, null, Map.of());
    assertThatThrownBy(() -> AppValidator.validate(bad, null)).hasMessageContaining("command.argv");
    App stop = App.create("a", AppType.CAPABLE, new Command(List.of("lsb:nginx"), null, Map.of(), List.of("kill", "1"), null),
        "s1", List.of("s2"), List.of(), false, null, Map.of());
    assertThatThrownBy(() -> AppValidator.validate(stop, null)).hasMessageContaining("command.stopCommand");
    App monitorOnly = App.create("a", AppType.CAPABLE, new Command(List.of("lsb:nginx"), null, Map.of(), List.of(), null,
        new HealthCheck(null, null, null, 5000L, null, 2)), "s1", List.of("s2"), List.of(), false, null, Map.of());
    AppValidator.validate(monitorOnly, null);
    App both = App.create("a", AppType.CAPABLE, Command.of("true"), "s1", List.of("s2"), List.of(), false, null, Map.of())
        .withManaged(List.of(new ManagedResource("ip", List.of("true"), null, null, null, List.of("ocf:heartbeat:IPaddr2", "ip=1.2.3.4"))));
    assertThatThrownBy(() -> AppValidator.validate(both, null)).hasMessageContaining("either agent or start/stop/check");
  }
}
