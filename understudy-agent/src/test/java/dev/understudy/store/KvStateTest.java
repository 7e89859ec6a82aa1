package dev.understudy.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class KvStateTest {
  private final KvState state = new KvState();
  private final List<Change> changes = new ArrayList<>();

  @Test
  void versionIsTheLogIndexOfTheWrite() {
    state.apply(List.of(Op.put("a", "1")), 7, changes);
    assertThat(state.get("a")).hasValueSatisfying(e -> assertThat(e.version()).isEqualTo(7));
    assertThat(changes).containsExactly(new Change("a", null, "1", 7));
  }

  /**
   * A replica too far behind installs a snapshot instead of the log: its watchers (the lease observer) must still
   * learn of every renewal, revocation and deletion it brought, or a renewed lease looks expired on that replica.
   */
  @Test
  void aSnapshotInstallReportsWhatItChangedAsTheLogWould() {
    state.apply(List.of(Op.put("leases/s1", "r1"), Op.put("leases/s2", "r1"), Op.put("apps/a", "x")), 5, changes);
    var snapshot = new java.util.TreeMap<String, Entry>();
    snapshot.put("leases/s1", new Entry("leases/s1", "r9", 40));
    snapshot.put("leases/s2", new Entry("leases/s2", "r1", 5));
    snapshot.put("revocations/s1", new Entry("revocations/s1", "v", 41));
    List<Change> told = state.replaceAll(snapshot, 42);
    assertThat(told).containsExactlyInAnyOrder(new Change("leases/s1", "r1", "r9", 40),
        new Change("revocations/s1", null, "v", 41), new Change("apps/a", "x", null, 42));
    assertThat(state.copy()).isEqualTo(snapshot);
  }

  @Test
  void createFailsWhenKeyExists() {
    state.apply(List.of(Op.put("a", "1")), 1, changes);
    TxnResult r = state.apply(List.of(Op.create("a", "2")), 2, changes);
    assertThat(r.ok()).isFalse();
    assertThat(r.conflictKey()).isEqualTo("a");
    assertThat(r.actualVersion()).isEqualTo(1);
    assertThat(state.get("a").orElseThrow().value()).isEqualTo("1");
  }

  @Test
  void transactionIsAllOrNothing() {
    state.apply(List.of(Op.put("a", "1"), Op.put("b", "1")), 1, changes);
    changes.clear();
    TxnResult r = state.apply(List.of(Op.put("a", "2", 1), Op.put("b", "2", 99)), 2, changes);
    assertThat(r.ok()).isFalse();
    assertThat(changes).isEmpty();
    assertThat(state.get("a").orElseThrow().value()).isEqualTo("1");
  }

  @Test
  void checkStepGuardsWithoutWriting() {
    state.apply(List.of(Op.put("lease", "x")), 1, changes);
    assertThat(state.apply(List.of(Op.check("lease", 1), Op.put("app", "y")), 2, changes).ok()).isTrue();
    assertThat(state.apply(List.of(Op.check("lease", 1), Op.put("app", "z")), 3, changes).ok()).isTrue();
    state.apply(List.of(Op.put("lease", "renewed")), 4, changes);
    assertThat(state.apply(List.of(Op.check("lease", 1), Op.put("app", "w")), 5, changes).ok()).isFalse();
  }

  @Test
  void listByPrefixIsOrderedAndBounded() {
    state.apply(List.of(Op.put("apps/b", "1"), Op.put("apps/a", "1"), Op.put("appsx", "1"), Op.put("b", "1")), 1, changes);
    assertThat(state.list("apps/")).extracting(Entry::key).containsExactly("apps/a", "apps/b");
  }

  @Test
  void deleteWithVersion() {
    state.apply(List.of(Op.put("a", "1")), 1, changes);
    assertThat(state.apply(List.of(Op.delete("a", 2)), 2, changes).ok()).isFalse();
    assertThat(state.apply(List.of(Op.delete("a", 1)), 3, changes).ok()).isTrue();
    assertThat(state.get("a")).isEmpty();
  }
}
