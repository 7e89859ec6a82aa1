package dev.understudy.chaos;

/** One injected fault, as recorded in the schedule: when it started and ended (ms since the run began). */
record Fault(long startMs, long endMs, String kind, String server, String detail) {
  @Override
  public String toString() {
    return String.format("%7d..%-7d %-14s %-4s %s", startMs, endMs, kind, server == null ? "" : server, detail == null ? "" : detail);
  }
}
