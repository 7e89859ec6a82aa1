package dev.understudy.model;

/** Key layout of the cluster database. */
public final class Keys {
  public static final String APPS = "apps/";
  public static final String SERVERS = "servers/";
  public static final String LEASES = "leases/";
  public static final String READINESS = "readiness/";
  public static final String REVOCATIONS = "revocations/";
  /** {@link Parting}: builds before it ignore the prefix, as they ignore every key they do not read. */
  public static final String PARTINGS = "partings/";
  public static final String MEMBERS = "members/";
  public static final String MARKERS = "markers/";
  public static final String EVENTS = "events/";
  public static final String TOMBSTONES = "tombstones/";
  /** The one {@link Maintenance} record: cluster maintenance mode, drained servers, unmanaged apps. */
  public static final String MAINTENANCE = "cluster/maintenance";
  /** The format every agent writes ({@link Formats}); absent: format 1. */
  public static final String CLUSTER_FORMAT = "cluster/format";
  /** Per member: the formats its agent reads ({@link Formats.Readable}). */
  public static final String FORMATS = "formats/";

  private Keys() {}

  public static String app(String tag) { return APPS + tag; }
  public static String server(String id) { return SERVERS + id; }
  public static String lease(String id) { return LEASES + id; }
  public static String readiness(String id) { return READINESS + id; }
  public static String revocation(String id) { return REVOCATIONS + id; }
  public static String parting(String id) { return PARTINGS + id; }
  public static String member(String id) { return MEMBERS + id; }
  public static String marker(String tag) { return MARKERS + tag; }
  public static String tombstone(String tag) { return TOMBSTONES + tag; }
  public static String formats(String id) { return FORMATS + id; }
  public static String event(long millis, String id) { return EVENTS + String.format("%015d-%s", millis, id); }

  /** An event's id in the event stream: its key without the prefix, so ids sort as the stored events do. */
  public static String eventStreamId(long millis, String id) { return event(millis, id).substring(EVENTS.length()); }
}
