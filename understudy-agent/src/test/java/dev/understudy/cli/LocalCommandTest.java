package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** #24: `local up --servers 2 --witness` made a cluster that survives no loss, and said nothing. */
class LocalCommandTest {
  @Test
  void aClusterThatSurvivesNoLossIsCalledSoBeforeItIsMade() {
    assertThat(LocalCommand.weakness(2, true)).contains("no majority after any loss").contains("1 app server has no backup");
    assertThat(LocalCommand.weakness(2, false)).contains("no majority after any loss").doesNotContain("app server");
    assertThat(LocalCommand.weakness(1, false)).contains("1 voter leaves");
    assertThat(LocalCommand.weakness(3, true)).isNull();
    assertThat(LocalCommand.weakness(3, false)).isNull();
    assertThat(LocalCommand.weakness(4, true)).isNull();
  }
}
