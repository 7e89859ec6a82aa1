package dev.understudy.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MiniJsonTest {
  @Test
  void roundTripsWhatTheContractUses() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("tag", "a \"quoted\" \\ tag\n");
    m.put("n", 42L);
    m.put("ok", true);
    m.put("list", List.of("x", "y"));
    m.put("none", null);
    assertEquals(m, MiniJson.parse(MiniJson.write(m)));
  }

  @Test
  void parsesAgentAnswers() {
    assertEquals(Map.of("host", true, "server", "s2", "epoch", 7L),
        MiniJson.parse(" {\"host\": true, \"server\": \"s2\", \"epoch\": 7} "));
    assertEquals(List.of(), MiniJson.parse("[]"));
  }

  @Test
  void rejectsGarbage() {
    assertThrows(IllegalArgumentException.class, () -> MiniJson.parse("{\"a\": }"));
    assertThrows(RuntimeException.class, () -> MiniJson.parse("{\"a\": 1"));
  }
}
