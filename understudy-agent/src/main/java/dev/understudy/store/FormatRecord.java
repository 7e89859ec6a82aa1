package dev.understudy.store;

/** The cluster's format record ({@link dev.understudy.model.Keys#CLUSTER_FORMAT}) as a number, read one way everywhere. */
public final class FormatRecord {
  private FormatRecord() {}

  /** 1 when there is no record; a record of a shape this build does not know counts as newer than any it reads. */
  public static int format(Entry e) {
    if (e == null) return 1;
    try {
      return Json.MAPPER.readTree(e.value()).path("format").asInt(Integer.MAX_VALUE);
    } catch (java.io.IOException | RuntimeException ex) {
      return Integer.MAX_VALUE;
    }
  }
}
