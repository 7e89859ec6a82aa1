package dev.understudy.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.model.Formats;
import dev.understudy.model.Keys;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/**
 * Log entries carry their format (#23): format 1 exactly as releases before formats wrote it (their readers refuse any
 * field they do not know, and a refused entry the others apply is a replica that diverges in silence), later formats
 * with their number. A replica that meets a format newer than it reads applies nothing more and says why.
 */
class FormatsTest {
  private final KvStateMachine m = new KvStateMachine();
  private long index;

  private CompletableFuture<Message> apply(String json) {
    LogEntryProto e = LogEntryProto.newBuilder().setTerm(1).setIndex(++index)
        .setStateMachineLogEntry(StateMachineLogEntryProto.newBuilder().setLogData(ByteString.copyFromUtf8(json))).build();
    return m.applyTransaction(TransactionContext.newBuilder().setStateMachine(m)
        .setServerRole(org.apache.ratis.proto.RaftProtos.RaftPeerRole.FOLLOWER).setLogEntry(e).build());
  }

  private static String put(String key, int format) {
    return Json.write(new Requests.Txn(List.of(Op.put(key, "\"v\""))).in(format));
  }

  @Test
  void formatOneIsWrittenWithoutAFieldAndLaterOnesWithTheirNumber() {
    assertThat(put("k", 1)).doesNotContain("format");
    assertThat(put("k", 2)).contains("\"format\":2");
  }

  @Test
  void bothFormatsThisBuildReadsApply() throws Exception {
    apply(put("a", 1)).get();
    apply(put("b", 2)).get();
    assertThat(m.state().get("a")).isPresent();
    assertThat(m.state().get("b")).isPresent();
    assertThat(m.refusal("test")).isEmpty();
  }

  @Test
  void aNewerFormatStopsTheReplicaInsteadOfBeingRefusedAsMalformed() throws Exception {
    apply(put("a", 1)).get();
    // a newer build's entry: its number, and a field this build does not know
    CompletableFuture<Message> newer = apply("{\"format\":3,\"ops\":[{\"op\":\"PUT\",\"key\":\"b\",\"value\":\"1\"}],\"shiny\":1}");
    assertThat(newer).isCompletedExceptionally();
    assertThat(apply(put("c", 1))).as("nothing after it either: the replica stays at the last entry it could read")
        .isCompletedExceptionally();
    assertThat(m.state().get("b")).isEmpty();
    assertThat(m.state().get("c")).isEmpty();
    assertThat(m.getLastAppliedTermIndex().getIndex()).isEqualTo(1);
    assertThat(m.refusal("0.1.0")).get().asString()
        .contains("understudy 0.1.0", "reads database formats " + Formats.OLDEST + "-" + Formats.NEWEST, "format 3", "log entry 2");
  }

  @Test
  void writesFollowTheClusterFormatAsApplied() throws Exception {
    assertThat(m.writeFormat()).isEqualTo(1);
    apply(Json.write(new Requests.Txn(List.of(Op.put(Keys.CLUSTER_FORMAT, Json.write(new Formats.ClusterFormat(2))))))).get();
    assertThat(m.writeFormat()).isEqualTo(2);
    apply(put(Keys.CLUSTER_FORMAT, 2)).get(); // overwritten by a record of a shape this build does not know
    assertThat(m.writeFormat()).as("never above what this build writes").isEqualTo(Formats.NEWEST);
  }
}
