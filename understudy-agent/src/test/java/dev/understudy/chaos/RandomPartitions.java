package dev.understudy.chaos;

import dev.understudy.testing.History;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Random cuts, one at a time, each for 0.3-5 s with 0.2-3 s of calm between: one server's link, one server's TCP
 * only, everything between two servers (each still reaching the third), or two servers' links at once (the third is
 * left without a majority: nobody may take over, and every lease runs out). The schedule follows from the seed.
 */
final class RandomPartitions {
  private RandomPartitions() {}

  /** Returns what happened, one line per cut. */
  static List<String> run(Cuts cuts, List<String> servers, long seconds, long seed, Consumer<String> onCut)
      throws Exception {
    Random rnd = new Random(seed);
    boolean nft = Cuts.nftables();
    List<String> log = new ArrayList<>();
    long t0 = System.currentTimeMillis();
    while (System.currentTimeMillis() - t0 < seconds * 1000) {
      String a = servers.get(rnd.nextInt(servers.size()));
      String b = servers.get((servers.indexOf(a) + 1 + rnd.nextInt(servers.size() - 1)) % servers.size());
      int kind = rnd.nextInt(100);
      String what;
      if (kind < 30 || !nft && kind < 80) {
        cuts.linkDown(a);
        what = "LINK " + a;
      } else if (kind < 50) {
        cuts.dropTcp(a);
        what = "TCP " + a;
      } else if (kind < 80) {
        cuts.dropBetween(a, b);
        what = "PAIR " + a + " x " + b;
      } else {
        cuts.linkDown(a);
        cuts.linkDown(b);
        what = "MAJORITY " + a + " " + b;
      }
      long ms = 300 + rnd.nextInt(4700);
      log.add(String.format("%7d ms  %-16s for %d ms", System.currentTimeMillis() - t0, what, ms));
      onCut.accept(log.get(log.size() - 1));
      Thread.sleep(ms); // the fault's duration: this is the schedule, not a wait for a condition
      cuts.healAll();
      Thread.sleep(200 + rnd.nextInt(2800)); // the calm before the next cut: the schedule too
    }
    return log;
  }

  /** Per app: how many instances the history holds and the longest time with none. */
  static String gaps(Path history) throws Exception {
    Map<String, List<History.Instance>> byTag = new TreeMap<>();
    for (History.Instance i : History.instances(history)) byTag.computeIfAbsent(i.tag(), k -> new ArrayList<>()).add(i);
    List<String> parts = new ArrayList<>();
    byTag.forEach((tag, list) -> {
      list.sort(Comparator.comparingLong(History.Instance::first));
      long longest = 0;
      for (int i = 1; i < list.size(); i++) longest = Math.max(longest, list.get(i).first() - list.get(i - 1).last());
      parts.add(String.format("%s: %d instances, longest gap %d ms", tag, list.size(), longest / 1_000_000));
    });
    return String.join("; ", parts);
  }
}
