package dev.understudy.bench;

import dev.understudy.store.Entry;
import dev.understudy.store.RaftStore;
import dev.understudy.store.StoreConfig;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Cluster database: compare-and-set latency and sustained CAS/s on 3 Ratis replicas on 127.0.0.11-13 (real disk). */
final class CasBench {
  static Map<String, Object> run(int sequential, int threads, Duration sustained) throws Exception {
    Path dir = Files.createTempDirectory("understudy-casbench-");
    List<StoreConfig.Peer> peers = new ArrayList<>();
    for (int i = 1; i <= 3; i++) peers.add(new StoreConfig.Peer("s" + i, "127.0.0." + (10 + i), freePort("127.0.0." + (10 + i))));
    List<RaftStore> stores = new ArrayList<>();
    try {
      for (var p : peers) {
        stores.add(RaftStore.start(new StoreConfig(p.id(), "bench", dir.resolve(p.id()), peers, Duration.ofMillis(150),
            Duration.ofMillis(300), Duration.ofSeconds(5))));
      }
      RaftStore client = stores.get(0);
      awaitWritable(client);
      Stats lat = new Stats();
      long version = client.put("k", "0").version();
      for (int i = 0; i < sequential; i++) {
        long t = System.nanoTime();
        var r = client.cas("k", String.valueOf(i), version);
        lat.add((System.nanoTime() - t) / 1e6);
        if (!r.ok()) throw new IllegalStateException("CAS lost without contention");
        version = r.version();
      }
      AtomicLong done = new AtomicLong();
      long end = System.nanoTime() + sustained.toNanos();
      List<Thread> ts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String key = "t" + t;
        RaftStore via = stores.get(t % stores.size());
        Thread th = new Thread(() -> {
          long v = via.put(key, "0").version();
          while (System.nanoTime() < end) {
            var r = via.cas(key, "x", v);
            if (r.ok()) {
              v = r.version();
              done.incrementAndGet();
            } else {
              v = via.get(key).map(Entry::version).orElse(0L);
            }
          }
        });
        th.start();
        ts.add(th);
      }
      long t0 = System.nanoTime();
      for (Thread th : ts) th.join();
      double secs = (System.nanoTime() - t0) / 1e9;
      double pipelined = pipelined(stores, 256, sustained);
      System.out.printf("  CAS throughput (256 keys, one CAS in flight per key, pipelined clients): %.0f CAS/s%n", pipelined);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("casPerSecondPipelined", pipelined);
      m.put("casLatencyMs", lat.summary());
      m.put("casPerSecond", done.get() / secs);
      m.put("threads", threads);
      System.out.printf("  CAS latency (sequential, %d ops): %s%n", sequential, lat.line("ms"));
      System.out.printf("  CAS throughput (%d writers, %.0f s): %.0f CAS/s%n", threads, secs, done.get() / secs);
      return m;
    } finally {
      for (RaftStore s : stores) s.close();
    }
  }

  /** Every key has one compare-and-set in flight; the next is sent when it answers: the leader batches across keys. */
  static double pipelined(List<RaftStore> stores, int keys, Duration d) throws Exception {
    AtomicLong done = new AtomicLong();
    java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(keys);
    long[] versions = new long[keys];
    for (int k = 0; k < keys; k++) versions[k] = stores.get(k % stores.size()).put("p" + k, "0").version();
    long t0 = System.nanoTime();
    long end = t0 + d.toNanos();
    for (int k = 0; k < keys; k++) chain(stores.get(k % stores.size()), "p" + k, versions[k], end, done, finished);
    finished.await();
    return done.get() / ((System.nanoTime() - t0) / 1e9);
  }

  private static void chain(RaftStore via, String key, long version, long end, AtomicLong done,
                            java.util.concurrent.CountDownLatch finished) {
    if (System.nanoTime() >= end) {
      finished.countDown();
      return;
    }
    via.txnPipelined(List.of(dev.understudy.store.Op.put(key, "x", version))).whenComplete((r, err) -> {
      if (err != null || !r.ok()) {
        finished.countDown();
        return;
      }
      done.incrementAndGet();
      chain(via, key, r.version(), end, done, finished);
    });
  }

  /** Right after start there may be no leader yet: retry until a write goes through. */
  static void awaitWritable(RaftStore s) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      try {
        s.put("warm", "0");
        return;
      } catch (dev.understudy.store.StoreUnavailableException e) {
        if (System.nanoTime() > deadline) throw e;
        Thread.sleep(100);
      }
    }
  }

  static int freePort(String host) throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
      return s.getLocalPort();
    }
  }
}
