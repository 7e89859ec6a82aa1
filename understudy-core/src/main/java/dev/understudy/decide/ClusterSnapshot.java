package dev.understudy.decide;

import dev.understudy.model.App;
import dev.understudy.model.Maintenance;
import dev.understudy.model.ServerRecord;
import java.util.List;
import java.util.Map;

/**
 * A read-only copy of the database as one replica applied it. {@code readiness} is what each server published
 * about the apps it may host: tag -> missing requirements (absent = nothing missing or not evaluated yet).
 * {@code maintenance}: what operators have taken out of the agents' hands.
 */
public record ClusterSnapshot(Map<String, App> apps, Map<String, ServerRecord> servers,
                              Map<String, Map<String, List<String>>> readiness, Maintenance maintenance) {
  public ClusterSnapshot {
    if (maintenance == null) maintenance = Maintenance.NONE;
  }

  public ClusterSnapshot(Map<String, App> apps, Map<String, ServerRecord> servers, Map<String, Map<String, List<String>>> readiness) {
    this(apps, servers, readiness, Maintenance.NONE);
  }
}
