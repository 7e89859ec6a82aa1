package dev.understudy.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Wire forms of what a client sends to the state machine: a transaction or a query. */
final class Requests {
  private Requests() {}

  record Txn(List<Op> ops) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Query(String get, String prefix) {}

  record QueryAnswer(List<Entry> entries) {}
}
