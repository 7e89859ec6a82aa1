package dev.understudy.run;

import dev.understudy.model.Inventory;
import dev.understudy.model.Requirement;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Inventory of this machine (the patent's resources "initialized by the BIOS" plus its configuration file). */
public final class Resources {
  private Resources() {}

  public static Inventory detect(List<String> declaredLabels, Integer cpusOverride, Long memoryOverride) {
    int cpus = cpusOverride != null ? cpusOverride : Runtime.getRuntime().availableProcessors();
    long mem = memoryOverride != null ? memoryOverride : physicalMemory();
    return new Inventory(cpus, mem, declaredLabels);
  }

  private static long physicalMemory() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    } catch (IOException | NumberFormatException ignored) {
      // fall through
    }
    return Runtime.getRuntime().maxMemory();
  }

  /**
   * Requirements this server does not meet now. {@code runningHere}: the app already runs here, so its own port
   * being taken is no reason to refuse it.
   */
  public static List<String> unmet(List<String> requirements, Inventory inv, String bindAddress, boolean runningHere) {
    List<String> missing = new ArrayList<>();
    for (String spec : requirements) {
      Requirement r;
      try {
        r = Requirement.parse(spec);
      } catch (IllegalArgumentException e) {
        // an object written before its validation was this strict: this app is unmet here, every other app unaffected
        missing.add("invalid requirement (" + e.getMessage() + ")");
        continue;
      }
      boolean ok = switch (r.kind()) {
        case EXEC -> Files.isExecutable(Path.of(r.value())) && Files.isRegularFile(Path.of(r.value()));
        case PATH -> Files.isDirectory(Path.of(r.value())) && Files.isWritable(Path.of(r.value()));
        case PORT -> runningHere || portFree(bindAddress, (int) r.amount());
        case CPU -> inv.cpus() >= r.amount();
        case MEMORY -> inv.memoryBytes() >= r.amount();
        case LABEL -> inv.labels().contains(r.value());
      };
      if (!ok) missing.add(r.toString());
    }
    return missing;
  }

  private static boolean portFree(String address, int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName(address))) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
