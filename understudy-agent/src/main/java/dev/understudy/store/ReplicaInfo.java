package dev.understudy.store;

import java.io.IOException;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What this replica knows of the Raft log, for operators and for the stall watchdog: its role and term, the last
 * index in its log, the last it knows committed, the last its state machine applied, and the term of its entry 0
 * (-1 when not in the log). On the leader, {@code followerMatch} holds each follower's acknowledged index, by id.
 */
public record ReplicaInfo(String role, long term, String leader, long lastIndex, long commitIndex, long appliedIndex,
                          Map<String, Long> followerMatch, String lifeCycle, long firstTerm) {

  /**
   * On the leader, the follower to hand leadership to: a voter that has acknowledged everything committed, the one
   * furthest along first. Empty when none has: the leader then stops without a hand-over and the others elect. Ratis
   * refuses every write while a transfer is pending, until the transferee has caught up and won; handing over to a
   * follower still catching up (one just restarted) paused the whole cluster's lease renewals past a lease, and the
   * other servers fenced themselves (RollingUpgradeTest, twice in three runs).
   */
  public Optional<String> handOverTarget(List<String> voters) {
    return followerMatch.entrySet().stream()
        .filter(e -> voters.contains(e.getKey()) && e.getValue() >= commitIndex)
        .max(Comparator.comparingLong(Map.Entry::getValue))
        .map(Map.Entry::getKey);
  }

  static ReplicaInfo of(org.apache.ratis.server.RaftServer server, org.apache.ratis.protocol.RaftGroup group, String leader,
      long applied) {
    try {
      var division = server.getDivision(group.getGroupId());
      var info = division.getInfo();
      var log = division.getRaftLog();
      var last = log.getLastEntryTermIndex();
      // the commit index before the match indices: both only grow, so a follower that had everything committed is
      // never seen behind it by reading them in this order
      long commit = log.getLastCommittedIndex();
      java.util.Map<String, Long> match = new java.util.TreeMap<>();
      if (info.isLeader()) {
        // both lists follow the leader's log appenders, in the same order
        long[] indices = info.getFollowerMatchIndices();
        var followers = info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
        if (indices.length == followers.size()) {
          for (int i = 0; i < indices.length; i++) {
            match.put(followers.get(i).getId().getId().toStringUtf8(), indices[i]);
          }
        }
      }
      var first = log.getTermIndex(0);
      return new ReplicaInfo(info.getCurrentRole().name(), info.getCurrentTerm(), leader,
          last == null ? -1 : last.getIndex(), commit, applied, match,
          info.getLifeCycleState().name(), first == null ? -1 : first.getTerm());
    } catch (IOException | RuntimeException e) {
      return new ReplicaInfo("UNAVAILABLE: " + RaftSetup.rootMessage(e), -1, null, -1, -1, applied, java.util.Map.of(), "?", -1);
    }
  }
}
