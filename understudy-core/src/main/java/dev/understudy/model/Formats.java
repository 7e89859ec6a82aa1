package dev.understudy.model;

/**
 * Versions of what agents write for each other: the cluster database's log entries and the LAN heartbeat packets.
 *
 * <p>Format 1 is what releases before format versions wrote (entries and packets without a version field). Format 2
 * writes its number in every entry and packet. An agent reads every format from {@link #OLDEST} to {@link #NEWEST}
 * and writes the cluster's format ({@link Keys#CLUSTER_FORMAT}, 1 when absent), which the Raft leader's agent raises
 * only once every member has said it reads the new one ({@link Keys#formats}). A replica that meets a format newer
 * than it reads stops applying (it would otherwise refuse entries the others apply, and diverge in silence), and its
 * agent stops, naming both versions.
 */
public final class Formats {
  public static final int OLDEST = 1;
  public static final int NEWEST = 2;

  /** What a member says it reads (and so what the cluster may write once every member says so). */
  public record Readable(int oldest, int newest, String build) {}

  /** The cluster's format record. */
  public record ClusterFormat(int format) {}

  private Formats() {}

  public static Readable ours(String build) { return new Readable(OLDEST, NEWEST, build); }

  /** Why this agent cannot take part in a cluster written in {@code clusterFormat}. */
  public static String cannotRead(int clusterFormat, String build, String where) {
    return "this agent (understudy " + build + ") reads database formats " + OLDEST + "-" + NEWEST + "; the cluster writes format "
        + clusterFormat + " (" + where + "): upgrade this agent to a build that reads format " + clusterFormat + " before starting it";
  }
}
