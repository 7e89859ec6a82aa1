package dev.understudy.model;

import java.util.List;

/** What a server has: detected on the machine plus declared in its inventory file. */
public record Inventory(int cpus, long memoryBytes, List<String> labels) {
  public Inventory {
    labels = labels == null ? List.of() : List.copyOf(labels);
  }
}
