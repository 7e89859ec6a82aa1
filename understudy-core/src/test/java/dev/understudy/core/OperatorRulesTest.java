package dev.understudy.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.model.App;
import dev.understudy.model.AppType;
import dev.understudy.model.Command;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OperatorRulesTest {
  private static final App RUNNING = App.create("web", AppType.CAPABLE, Command.of("sleep", "1000"), "s1", List.of("s2"),
      List.of(), true, null, Map.of());

  /**
   * A load while an unload is under way was answered "already loaded on s1"; the unload then finished and the app
   * stayed unloaded, the operator's last command notwithstanding (chaos seed 91986422732511: 447 s unloaded).
   */
  @Test
  void aLoadWhileTheUnloadIsUnderWaySaysSoAndChangesNothing() {
    App unloading = OperatorRules.unload(RUNNING).next();
    assertThatThrownBy(() -> OperatorRules.load(unloading))
        .isInstanceOf(OperatorRules.Refused.class)
        .hasMessageContaining("web is being unloaded from s1")
        .hasMessageContaining("load it again once it has stopped");
  }

  @Test
  void aLoadOfALoadedAppIsRefusedAsBefore() {
    assertThatThrownBy(() -> OperatorRules.load(RUNNING)).hasMessageContaining("web is already loaded on s1");
    assertThat(OperatorRules.unload(RUNNING).next().target()).isEqualTo(App.UNLOAD);
  }
}
