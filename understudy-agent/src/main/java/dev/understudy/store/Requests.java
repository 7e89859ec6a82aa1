package dev.understudy.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Wire forms of what a client sends to the state machine: a transaction, a batch of them, or a query. */
final class Requests {
  private Requests() {}

  /**
   * One transaction ({@code ops}), or a batch of independent ones in one log entry ({@code batch}): each is applied
   * or refused on its own, in order, and answered in a {@link BatchAnswer}. A mass failover's hundreds of
   * compare-and-sets go out in a few entries instead of one each.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Txn(List<Op> ops, List<List<Op>> batch, Integer format) {
    Txn(List<Op> ops) { this(ops, null, null); }

    Txn(List<Op> ops, List<List<Op>> batch) { this(ops, batch, null); }

    /** In the cluster's format: format 1 has no field (its readers refuse any field they do not know). */
    Txn in(int clusterFormat) { return clusterFormat <= 1 ? this : new Txn(ops, batch, clusterFormat); }
  }

  record BatchAnswer(List<TxnResult> results) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Query(String get, String prefix) {}

  record QueryAnswer(List<Entry> entries) {}
}
