package dev.understudy.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import org.junit.jupiter.api.Test;

/**
 * Raft never truncates a committed entry, so a truncation at or below what the state machine applied means this
 * replica applied an entry its peers did not commit. A partition drill ended with one replica whose state disagreed
 * with its peers' at the same index although the three logs were byte-identical: the mark of exactly that. Such a
 * replica must say so (and, through the agent, start nothing until rebuilt).
 */
class KvStateMachineTest {
  private static void applied(KvStateMachine m, long index) throws Exception {
    Method update = org.apache.ratis.statemachine.impl.BaseStateMachine.class
        .getDeclaredMethod("updateLastAppliedTermIndex", long.class, long.class);
    update.setAccessible(true);
    update.invoke(m, 3L, index);
  }

  @Test
  void truncatingWhatWasNeverAppliedIsNormal() throws Exception {
    KvStateMachine m = new KvStateMachine();
    applied(m, 10);
    m.truncate(11).get();
    assertThat(m.divergedAt()).isEqualTo(-1);
  }

  @Test
  void truncatingAnAppliedEntryMarksTheReplicaDiverged() throws Exception {
    KvStateMachine m = new KvStateMachine();
    applied(m, 10);
    m.truncate(8).get();
    assertThat(m.divergedAt()).isEqualTo(8);
  }
}
