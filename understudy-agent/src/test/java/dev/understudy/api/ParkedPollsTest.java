package dev.understudy.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** #21: an app token could park any number of long polls on an agent. */
class ParkedPollsTest {
  @Test
  void eachAppAndTheAgentHaveALimitAndReleasedPollsMakeRoom() {
    ParkedPolls p = new ParkedPolls();
    for (int i = 0; i < ParkedPolls.PER_APP; i++) p.park("a");
    assertThatThrownBy(() -> p.park("a")).isInstanceOf(ApiError.class).hasMessageContaining("waiting for a");
    p.park("b"); // another app is not held back by a
    p.release("a");
    p.park("a");
    for (int t = 0; t < ParkedPolls.TOTAL; t++) {
      try {
        p.park("x" + t);
      } catch (ApiError e) {
        assertThat(e.status).isEqualTo(429);
        assertThat(e.getMessage()).contains("waiting on this agent");
        return;
      }
    }
    throw new AssertionError("the agent-wide limit never refused");
  }
}
