package dev.understudy.api;

import dev.understudy.model.AppType;
import dev.understudy.model.Command;
import dev.understudy.model.ManagedResource;
import dev.understudy.model.Service;
import java.util.List;
import java.util.Map;

/** What an operator (or an aware app) sends to create or replace an app: the definition, no runtime fields. */
public record AppSpec(String tag, AppType type, Command command, String primary, List<String> backups,
                      List<String> resources, List<ManagedResource> managed, Boolean autoFailback, Service service, Map<String, String> attributes) {}
