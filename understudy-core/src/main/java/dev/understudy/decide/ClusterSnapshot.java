package dev.understudy.decide;

import dev.understudy.model.App;
import dev.understudy.model.ServerRecord;
import java.util.List;
import java.util.Map;

/**
 * A read-only copy of the database as one replica applied it. {@code readiness} is what each server published
 * about the apps it may host: tag -> missing requirements (absent = nothing missing or not evaluated yet).
 */
public record ClusterSnapshot(Map<String, App> apps, Map<String, ServerRecord> servers,
                              Map<String, Map<String, List<String>>> readiness) {}
