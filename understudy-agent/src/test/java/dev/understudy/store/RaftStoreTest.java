package dev.understudy.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.understudy.testing.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three replicas in one JVM on loopback addresses 127.0.0.11-13. */
class RaftStoreTest {
  @TempDir Path dir;
  private final List<RaftStore> open = new ArrayList<>();
  private List<StoreConfig.Peer> peers;

  private long snapshotEvery = 10_000;

  private StoreConfig config(String id) {
    return new StoreConfig(id, "test", dir.resolve(id), peers, Duration.ofMillis(150), Duration.ofMillis(300),
        Duration.ofSeconds(3), snapshotEvery);
  }

  private RaftStore startReplica(String id) throws IOException {
    RaftStore s = RaftStore.start(config(id));
    open.add(s);
    return s;
  }

  private List<RaftStore> startThree() throws IOException {
    peers = List.of(
        new StoreConfig.Peer("s1", "127.0.0.11", Ports.free("127.0.0.11")),
        new StoreConfig.Peer("s2", "127.0.0.12", Ports.free("127.0.0.12")),
        new StoreConfig.Peer("s3", "127.0.0.13", Ports.free("127.0.0.13")));
    List<RaftStore> all = List.of(startReplica("s1"), startReplica("s2"), startReplica("s3"));
    // servers wait 3-6 election timeouts before their first election: let one win before the test starts writing
    await().atMost(Duration.ofSeconds(30)).until(() -> all.stream().anyMatch(RaftStore::isLeader));
    return all;
  }

  @AfterEach
  void closeAll() {
    open.forEach(RaftStore::close);
  }

  @Test
  void writesAreReplicatedAndReadable() throws IOException {
    var s = startThree();
    assertThat(s.get(0).put("k", "\"v\"").ok()).isTrue();
    assertThat(s.get(2).get("k")).hasValueSatisfying(e -> assertThat(e.value()).isEqualTo("\"v\""));
    await().atMost(Duration.ofSeconds(5)).until(() -> s.get(1).localGet("k").isPresent());
  }

  /**
   * Regression: a pipelined write's callback that writes again (an event recorded after a commit) deadlocked the
   * agent once more than the client's in-flight limit (100) were out: the callback ran on Ratis' reply thread, under
   * the lock every other reply needs. Found by a 1,000-app mass failover.
   */
  @Test
  @org.junit.jupiter.api.Timeout(value = 120, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void callbacksOfPipelinedWritesMayWriteAgain() throws Exception {
    var s = startThree();
    RaftStore writer = s.get(1);
    int n = 400;
    var done = new CountDownLatch(n);
    for (int i = 0; i < n; i++) {
      String k = "c" + i;
      writer.txnPipelined(List.of(Op.put(k, "1"))).thenAccept(r ->
          writer.txnPipelined(List.of(Op.put(k + "-after", "2"))).thenRun(done::countDown));
    }
    assertThat(done.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("every follow-up write completed").isTrue();
    assertThat(writer.list("c")).hasSize(2 * n);
  }

  @Test
  void aBatchAppliesEachTransactionOnItsOwn() throws Exception {
    var s = startThree();
    long v = s.get(0).put("b1", "0").version();
    var results = s.get(1).txnBatch(List.of(
        List.of(Op.put("b1", "1", v)),       // holds
        List.of(Op.put("b2", "1", 12345L)),  // refused: b2 does not exist at that version
        List.of(Op.put("b1", "2", v)),       // refused: the first one just moved b1 on
        List.of(Op.put("b3", "1")))).get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(results).extracting(TxnResult::ok).containsExactly(true, false, false, true);
    assertThat(results.get(2).conflictKey()).isEqualTo("b1");
    assertThat(s.get(2).get("b1")).hasValueSatisfying(e -> assertThat(e.value()).isEqualTo("1"));
    assertThat(s.get(2).get("b2")).isEmpty();
    assertThat(s.get(2).get("b3")).isPresent();
  }

  @Test
  void aBatchSubmittedHereCommitsOnTheLeaderAndIsRefusedElsewhere() throws Exception {
    var s = startThree();
    // a leader takes writes once it has committed an entry of its term; until then it refuses them (CI saw that once)
    await().atMost(Duration.ofSeconds(30)).until(() -> s.stream().anyMatch(RaftStore::isLeaderReady));
    RaftStore leader = s.stream().filter(RaftStore::isLeaderReady).findFirst().orElseThrow();
    RaftStore follower = s.stream().filter(r -> !r.isLeader()).findFirst().orElseThrow();
    var results = leader.txnBatchHere(List.of(List.of(Op.put("h1", "1")), List.of(Op.put("h2", "1", 999L))))
        .get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(results).extracting(TxnResult::ok).containsExactly(true, false);
    assertThat(follower.get("h1")).isPresent();
    var refused = follower.txnBatchHere(List.of(List.of(Op.put("h3", "1"))));
    assertThat(refused).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .withCauseInstanceOf(StoreUnavailableException.class);
    assertThat(leader.get("h3")).as("nothing written where the replica does not lead").isEmpty();
  }

  @Test
  void twoWritersOnOneKeyExactlyOneWins() throws Exception {
    var s = startThree();
    long v = s.get(0).put("k", "0").version();
    AtomicInteger wins = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (RaftStore writer : List.of(s.get(1), s.get(2))) {
      Thread t = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        if (writer.cas("k", "1", v).ok()) wins.incrementAndGet();
      });
      t.start();
      threads.add(t);
    }
    go.countDown();
    for (Thread t : threads) t.join();
    assertThat(wins.get()).isEqualTo(1);
  }

  @Test
  void watchersSeeChangesInOrder() throws IOException {
    var s = startThree();
    List<String> seen = new CopyOnWriteArrayList<>();
    s.get(2).watch(cs -> cs.forEach(c -> seen.add(c.newValue())));
    for (int i = 0; i < 20; i++) s.get(0).put("k", String.valueOf(i));
    await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 20);
    assertThat(seen).containsExactlyElementsOf(Stream.iterate(0, i -> i + 1).limit(20).map(String::valueOf).toList());
  }

  @Test
  void killingTheLeaderLeavesTheOtherTwoWriting() throws IOException {
    var s = startThree();
    s.get(0).put("warm", "1");
    RaftStore leader = s.stream().filter(RaftStore::isLeader).findFirst().orElseThrow();
    leader.close();
    open.remove(leader);
    RaftStore survivor = open.get(0);
    long t0 = System.nanoTime();
    assertThat(survivor.put("after", "1").ok()).isTrue();
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(ms).as("write after leader loss took %d ms", ms).isLessThan(2000);
  }

  /**
   * A read right after the leader stopped answers from the next leader. (The demo found a read that waited out the 3 s
   * timeout after the leader's process was killed, 1 run in 3; a leader closed in this JVM does not reproduce that,
   * so this guards the bound, and the demo and LocalClusterTest exercise the kill.)
   */
  @Test
  void aLinearizableReadRightAfterTheLeaderDiedAnswersFromTheNextOne() throws IOException {
    var s = startThree();
    s.get(0).put("warm", "1");
    RaftStore leader = s.stream().filter(RaftStore::isLeader).findFirst().orElseThrow();
    RaftStore survivor = s.stream().filter(r -> r != leader).findFirst().orElseThrow();
    survivor.get("warm"); // the survivor's client is aimed at the leader
    leader.close();
    open.remove(leader);
    long t0 = System.nanoTime();
    assertThat(survivor.get("warm")).isPresent();
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(ms).as("read after leader loss took %d ms (request timeout 3000)", ms).isLessThan(2500);
  }

  @Test
  void stoppedReplicaMissesWritesThenCatchesUpAfterRestart() throws IOException {
    var s = startThree();
    s.get(0).put("first", "1");
    RaftStore s3 = s.get(2);
    s3.close();
    open.remove(s3);
    RaftStore writer = open.get(0);
    for (int i = 0; i < 300; i++) writer.put("k/" + i, String.valueOf(i));
    RaftStore back = startReplica("s3");
    await().atMost(Duration.ofSeconds(20)).until(() -> back.localList("k/").size() == 300);
    assertThat(back.localGet("k/299").orElseThrow().value()).isEqualTo("299");
  }

  /** The leader snapshots and purges its log while a replica is down: it must catch up by installing the snapshot. */
  @Test
  void replicaFarBehindInstallsTheLeadersSnapshot() throws IOException {
    snapshotEvery = 100;
    var s = startThree();
    s.get(0).put("first", "1");
    RaftStore s3 = s.stream().filter(r -> !r.isLeader()).findFirst().orElseThrow();
    String id = s3 == s.get(0) ? "s1" : s3 == s.get(1) ? "s2" : "s3";
    s3.close();
    open.remove(s3);
    RaftStore writer = open.get(0);
    for (int i = 0; i < 500; i++) writer.put("k/" + i, String.valueOf(i));
    RaftStore back = startReplica(id);
    await().atMost(Duration.ofSeconds(30)).until(() -> back.localList("k/").size() == 500);
    writer.put("after", "1");
    await().atMost(Duration.ofSeconds(10)).until(() -> back.localGet("after").isPresent());
  }

  /**
   * A follower a little behind when the leader snapshots catches up from the log, not by installing the snapshot. The
   * log used to be purged right up to each snapshot: in a chaos run followers went from one install to the next,
   * acknowledging nothing meanwhile, and when another server died the two left could not commit for 17 s.
   */
  @Test
  void aFollowerALittleBehindTheLeadersSnapshotCatchesUpFromTheLog() throws IOException {
    snapshotEvery = 100;
    var s = startThree();
    String value = "x".repeat(400); // entries the size of events, so that log segments close and can be purged
    for (int i = 0; i < 40; i++) s.get(0).put("a/" + i, value);
    RaftStore follower = s.stream().filter(r -> !r.isLeader()).findFirst().orElseThrow();
    String id = follower == s.get(0) ? "s1" : follower == s.get(1) ? "s2" : "s3";
    await().atMost(Duration.ofSeconds(10)).until(() -> follower.localList("a/").size() == 40);
    follower.close();
    open.remove(follower);
    RaftStore leader = open.stream().filter(RaftStore::isLeader).findFirst().orElseThrow();
    for (int i = 0; i < 80; i++) leader.put("b/" + i, value);
    // the leader has taken a snapshot past everything the follower has
    await().atMost(Duration.ofSeconds(10)).until(() -> leader.sm().getLatestSnapshot() != null
        && leader.sm().getLatestSnapshot().getIndex() >= 100);
    RaftStore back = startReplica(id);
    await().atMost(Duration.ofSeconds(20)).until(() -> back.localList("b/").size() == 80);
    assertThat(back.sm().installs()).as("snapshots installed into the returning follower").isZero();
  }

  @Test
  void restartedReplicaRecoversFromItsSnapshotAndLog() throws IOException {
    var s = startThree();
    for (int i = 0; i < 50; i++) s.get(0).put("k/" + i, String.valueOf(i));
    await().atMost(Duration.ofSeconds(5)).until(() -> s.get(1).localList("k/").size() == 50);
    s.get(1).snapshot();
    s.get(1).close();
    open.remove(s.get(1));
    RaftStore back = startReplica("s2");
    await().atMost(Duration.ofSeconds(10)).until(() -> back.localList("k/").size() == 50);
  }

  @Test
  void truncatedDataDirectoryIsReportedNotReset() throws IOException {
    var s = startThree();
    s.get(0).put("k", "1");
    s.get(1).close();
    open.remove(s.get(1));
    try (var files = Files.walk(dir.resolve("s2"))) {
      for (Path p : files.filter(p -> p.getFileName().toString().startsWith("raft-meta")).toList()) Files.delete(p);
    }
    assertThatThrownBy(() -> startReplica("s2"))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("incomplete")
        .hasMessageContaining("remove");
  }

  /**
   * The repair for a follower stuck on a divergent first entry: its log goes, its term and vote stay, and a leader that
   * counts nothing from it brings it back. Here the leader had counted its entries, and a Ratis leader never lowers
   * that count (so the agent rebuilds only a replica its leader counts nothing from); a restarted leader starts
   * counting afresh, as the leader in the real case does.
   */
  @Test
  void aRebuiltFollowerKeepsItsTermAndCopiesEverythingFromTheLeader() throws IOException {
    var s = startThree();
    for (int i = 0; i < 200; i++) s.get(0).put("k/" + i, String.valueOf(i));
    RaftStore leader = s.stream().filter(RaftStore::isLeader).findFirst().orElseThrow();
    String leaderId = leader.replicaInfo().leader();
    RaftStore follower = s.stream().filter(r -> !r.isLeader()).findFirst().orElseThrow();
    RaftStore other = s.stream().filter(r -> r != leader && r != follower).findFirst().orElseThrow();
    await().atMost(Duration.ofSeconds(10)).until(() -> follower.localList("k/").size() == 200);
    assertThat(leader.replicaInfo().followerMatch()).hasSize(2).allSatisfy((id, m) -> assertThat(m).isGreaterThan(0));
    List<Change> seen = new CopyOnWriteArrayList<>();
    follower.watch(seen::addAll);
    long term = follower.replicaInfo().term();
    long firstTerm = follower.replicaInfo().firstTerm();

    follower.rebuildReplica();
    assertThat(follower.replicaInfo().term()).as("term kept").isGreaterThanOrEqualTo(term);
    assertThat(follower.localList("k/")).isEmpty();
    leader.close();
    open.remove(leader);
    RaftStore back = startReplica(leaderId);

    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> other.put("after", "1").ok());
    await().atMost(Duration.ofSeconds(20)).until(() -> follower.localList("k/").size() == 200);
    await().atMost(Duration.ofSeconds(10)).until(() -> follower.localGet("after").isPresent());
    assertThat(follower.replicaInfo().firstTerm()).isEqualTo(firstTerm);
    assertThat(seen).as("watchers carried over to the rebuilt replica").isNotEmpty();
    assertThat(back.localGet("after")).isPresent();
  }

  /**
   * A stopping leader hands over to the follower that has everything committed, not to one that is down or behind:
   * Ratis takes no write until the transferee has caught up and won, so the wrong choice paused every lease renewal.
   */
  @Test
  void aLeaderHandsOverToACurrentFollowerNotToOneThatIsDown() throws IOException {
    var s = startThree();
    s.get(0).put("warm", "1");
    RaftStore leader = s.stream().filter(RaftStore::isLeader).findFirst().orElseThrow();
    List<RaftStore> followers = s.stream().filter(r -> r != leader).toList();
    RaftStore down = followers.get(0);
    String downId = idOf(down, s);
    down.close();
    open.remove(down);
    for (int i = 0; i < 20; i++) leader.put("k/" + i, String.valueOf(i));
    List<String> voters = List.of("s1", "s2", "s3");
    String target = leader.replicaInfo().handOverTarget(voters).orElseThrow();
    assertThat(target).isNotEqualTo(downId).isEqualTo(idOf(followers.get(1), s));
    leader.transferLeadership(target, 3000);
    await().atMost(Duration.ofSeconds(10)).until(() -> followers.get(1).isLeader());
    await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> followers.get(1).put("after", "1").ok());
  }

  private static String idOf(RaftStore r, List<RaftStore> all) { return "s" + (all.indexOf(r) + 1); }

  /** The repair for a follower the leader believes further along than it is: a new leader term, and writes go on. */
  @Test
  void aFollowerCanMakeTheLeaderStepDown() throws IOException {
    var s = startThree();
    s.get(0).put("k", "1");
    RaftStore follower = s.stream().filter(r -> !r.isLeader()).findFirst().orElseThrow();
    long term = follower.replicaInfo().term();
    follower.askLeaderToStepDown();
    await().atMost(Duration.ofSeconds(10)).until(() -> follower.replicaInfo().term() > term);
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> follower.put("after", "1").ok());
  }

  /** A lease renewal sent to a leader that just died lands on the next one, without waiting for the next round. */
  @Test
  void aQuickWriteAimedAtADeadLeaderLandsOnTheNextOne() throws Exception {
    var s = startThree();
    s.get(0).put("warm", "1");
    RaftStore leader = s.stream().filter(RaftStore::isLeader).findFirst().orElseThrow();
    RaftStore follower = s.stream().filter(r -> !r.isLeader()).findFirst().orElseThrow();
    assertThat(follower.txnAsync(List.of(Op.put("q", "0"))).get(5, java.util.concurrent.TimeUnit.SECONDS).ok()).isTrue();
    leader.close();
    open.remove(leader);
    long t0 = System.nanoTime();
    TxnResult r;
    try {
      r = follower.txnAsync(List.of(Op.put("q", "1"))).get(10, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      // A starved machine (a full verify) can take longer to elect than the two election timeouts (600 ms here) a quick
      // write follows the leader for; it then fails as unknown and the next renewal round's write lands. Only after
      // that whole wait: a write that gave up at once would not have followed the leader at all.
      assertThat(e.getCause()).isInstanceOf(dev.understudy.store.StoreUnavailableException.class);
      assertThat((System.nanoTime() - t0) / 1_000_000).as("gave up only after following for two election timeouts")
          .isGreaterThanOrEqualTo(600);
      r = await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
          .until(() -> follower.txnAsync(List.of(Op.put("q", "1"))).get(5, java.util.concurrent.TimeUnit.SECONDS), TxnResult::ok);
    }
    assertThat(r.ok()).isTrue();
    System.out.println("quick write after leader loss: " + (System.nanoTime() - t0) / 1_000_000 + " ms");
  }
}
