package dev.understudy.decide;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.decide.Action.Commit;
import dev.understudy.decide.Action.Start;
import dev.understudy.decide.Action.Stop;
import dev.understudy.decide.Instance.Phase;
import dev.understudy.decide.Action;
import dev.understudy.model.App;
import dev.understudy.model.AppState;
import dev.understudy.model.AppType;
import dev.understudy.model.Command;
import dev.understudy.model.Inventory;
import dev.understudy.model.ServerRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One server's view for the decision rules' tests: an app web (primary s1, backups s2, s3) and its surroundings. */
abstract class DeciderFixture {
  static final long SEC = 1_000_000_000L;
  final Settings settings = new Settings(Duration.ofSeconds(2), 3, Duration.ofSeconds(60));
  long now = 100 * SEC;

  App app = App.create("web", AppType.CAPABLE, Command.of("sleep", "100"), "s1", List.of("s2", "s3"),
      List.of(), true, null, Map.of()).withVersion(10);
  Map<String, App> apps = new HashMap<>();
  Map<String, ServerRecord> servers = new HashMap<>();
  Map<String, Map<String, List<String>>> readiness = new HashMap<>();
  Map<String, Instance> instances = new HashMap<>();
  Map<String, PeerView> peers = new HashMap<>();
  Map<String, List<String>> unmet = new HashMap<>();
  Map<String, List<Long>> crashes = new HashMap<>();
  boolean leaseValid = true;
  boolean replicaCurrent = true;
  boolean uplink = true;
  java.util.Set<String> uncertain = new java.util.HashSet<>();
  dev.understudy.model.Maintenance maintenance = dev.understudy.model.Maintenance.NONE;

  List<Action> decide(String self) {
    apps.put(app.tag(), app);
    for (String s : List.of("s1", "s2", "s3")) {
      servers.putIfAbsent(s, new ServerRecord(s, "127.0.0.1", null, 0, false, new Inventory(2, 1L << 30, List.of()), true, null, null));
    }
    peers.remove(self);
    var local = new LocalView(self, leaseValid, instances, peers, unmet, uplink, crashes, replicaCurrent, uncertain);
    return Decider.decide(new ClusterSnapshot(apps, servers, readiness, maintenance), local, settings, now);
  }

  void peer(String id, Verdict v, long sinceSecondsAgo, boolean leaseExpired) {
    peers.put(id, new PeerView(id, v, now - sinceSecondsAgo * SEC, leaseExpired, 5, false));
  }

  void allUp() {
    for (String s : List.of("s1", "s2", "s3")) peer(s, Verdict.UP, 100, false);
  }

  void running(long epoch) { instances.put("web", new Instance("web", epoch, Phase.RUNNING, 0)); }
}
