package dev.understudy.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.model.Formats;
import dev.understudy.store.Entry;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** When the cluster's format moves up: only once every member reads the new one, never above this build's. */
class FormatKeeperTest {
  @Test
  void theClusterMovesUpOnlyWhenEveryMemberReadsTheNewFormat() {
    assertThat(FormatKeeper.raiseTo(1, List.of(2, 2, 2))).isEqualTo(2);
    assertThat(FormatKeeper.raiseTo(1, List.of(2, 1, 2))).as("one server still runs the previous release").isZero();
    assertThat(FormatKeeper.raiseTo(2, List.of(2, 2, 2))).as("already there").isZero();
    assertThat(FormatKeeper.raiseTo(1, List.of(7, 7))).as("never above what this build writes").isEqualTo(Formats.NEWEST);
    assertThat(FormatKeeper.raiseTo(2, List.of(1, 2))).as("never down").isZero();
  }

  @Test
  void aMemberThatSaidNothingRunsAReleaseBeforeFormats() {
    assertThat(FormatKeeper.newestReadBy(Optional.empty())).isEqualTo(1);
    assertThat(FormatKeeper.newestReadBy(Optional.of(new Entry("formats/s1", "{\"oldest\":1,\"newest\":2,\"build\":\"x\"}", 5))))
        .isEqualTo(2);
    assertThat(FormatKeeper.clusterFormat(Optional.empty())).isEqualTo(1);
    assertThat(FormatKeeper.clusterFormat(Optional.of(new Entry("cluster/format", "{\"format\":3,\"more\":true}", 9))))
        .isEqualTo(3);
  }
}
