package dev.understudy.detect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.model.Keys;
import dev.understudy.model.Lease;
import dev.understudy.model.Revocation;
import dev.understudy.store.InMemoryStore;
import dev.understudy.store.Json;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Holder and observer of a lease on a fake clock: the holder's lease always ends before the observer's count. */
class LeaseTest {
  final FakeTicker clock = new FakeTicker();
  final InMemoryStore store = new InMemoryStore();
  final Duration lease = Duration.ofMillis(1000);
  final Duration margin = Duration.ofMillis(100);
  final Duration startSlack = Duration.ofMillis(200);
  final LeaseKeeper holder = new LeaseKeeper("s1", store, clock, lease, margin, startSlack);
  final LeaseTracker observer = new LeaseTracker(clock, lease, Duration.ofMillis(100));

  LeaseTest() {
    store.watch(observer::onChanges);
  }

  @Test
  void acquireRenewAndExpire() {
    assertThat(observer.expired("s1")).as("no lease yet").isTrue();
    holder.renew(() -> true);
    assertThat(holder.valid()).isTrue();
    assertThat(observer.expired("s1")).isFalse();
    for (int i = 0; i < 10; i++) {
      clock.advance(Duration.ofMillis(200));
      holder.renew(() -> true);
      assertThat(holder.valid()).isTrue();
      assertThat(observer.expired("s1")).isFalse();
    }
    store.setAvailable(false); // the holder is cut off from the quorum
    boolean holderValid = true;
    for (int i = 0; i < 12; i++) {
      clock.advance(Duration.ofMillis(100));
      holder.renew(() -> true);
      if (!holder.valid()) holderValid = false;
      if (observer.expired("s1")) {
        assertThat(holderValid).as("observer saw expiry at step %d while the holder still thought it valid", i).isFalse();
      }
    }
    assertThat(observer.expired("s1")).isTrue();
  }

  /**
   * Mixed timing profiles (found by a user: one server on `relaxed` among `default` peers, its agent frozen for 2.5 s,
   * its app ran on two servers for seconds): the observer judges the holder's lease by the holder's own length.
   */
  @Test
  void anObserverOnAShorterLeaseCountsTheHoldersOwnLength() {
    InMemoryStore db = new InMemoryStore();
    LeaseKeeper relaxed = new LeaseKeeper("s1", db, clock, Duration.ofMillis(4000), Duration.ofMillis(400), Duration.ofMillis(1000));
    LeaseTracker defaultProfile = new LeaseTracker(clock, Duration.ofMillis(800), Duration.ofMillis(80));
    db.watch(defaultProfile::onChanges);
    relaxed.renew(() -> true);
    db.setAvailable(false); // the holder is cut off (or frozen): no renewal lands from now on
    for (int i = 0; i < 60; i++) {
      clock.advance(Duration.ofMillis(100));
      relaxed.renew(() -> true);
      if (defaultProfile.expired("s1")) {
        assertThat(relaxed.valid()).as("observer counted the lease expired at +%d ms while the holder still held it", (i + 1) * 100).isFalse();
        assertThat(relaxed.runUntil()).as("and the holder's fence deadline has passed").isLessThanOrEqualTo(clock.nanos());
      }
    }
    assertThat(defaultProfile.expired("s1")).isTrue();
  }

  @Test
  void revokedLeaseMakesTheHolderLoseItAndReacquireOnlyWhenIdle() {
    holder.renew(() -> true);
    Lease l = Json.read(store.localGet(Keys.lease("s1")).orElseThrow().value(), Lease.class);
    store.put(Keys.revocation("s1"), Json.write(new Revocation("s1", l.incarnation(), "s2")));
    assertThat(observer.expired("s1")).as("a revoked lease is expired for observers at once").isTrue();
    clock.advance(Duration.ofMillis(200));
    holder.renew(() -> false);
    assertThat(holder.valid()).isFalse();
    assertThat(holder.lostReason()).contains("revoked by s2");
    holder.renew(() -> false); // apps still running here: no new lease
    assertThat(holder.valid()).isFalse();
    holder.renew(() -> true);
    assertThat(holder.valid()).isTrue();
    assertThat(observer.expired("s1")).isFalse();
  }

  @Test
  void appsRunUntilAMarginBeforeTheLeaseEndsAndStartOnlyWithTheSlackLeft() {
    long sent = clock.nanos();
    holder.renew(() -> true);
    assertThat(holder.runUntil()).as("the fence's deadline: lease minus margin, from the send").isEqualTo(sent + 900_000_000L);
    store.setAvailable(false);
    clock.advance(Duration.ofMillis(650));
    assertThat(holder.valid()).isTrue();
    assertThat(holder.mayStart()).isTrue();
    clock.advance(Duration.ofMillis(100));
    assertThat(holder.valid()).as("750 ms into a 1000 ms lease: the apps still run").isTrue();
    assertThat(holder.mayStart()).as("but under the 200 ms start slack is left before the deadline").isFalse();
    clock.advance(Duration.ofMillis(150));
    assertThat(holder.valid()).as("at the deadline").isFalse();
    assertThat(holder.runUntil()).as("a lease not renewed keeps its deadline").isEqualTo(sent + 900_000_000L);
  }

  @Test
  void aRevokedLeaseHasNoDeadlineLeft() {
    holder.renew(() -> true);
    Lease l = Json.read(store.get(Keys.lease("s1")).orElseThrow().value(), Lease.class);
    store.put(Keys.revocation("s1"), Json.write(new Revocation("s1", l.incarnation(), "s2")));
    holder.renew(() -> false);
    assertThat(holder.runUntil()).as("the fence kills at once").isEqualTo(Long.MIN_VALUE);
    assertThat(holder.valid()).isFalse();
  }

  @Test
  void observerKnowsWhenALeaseWillHaveExpired() {
    LeaseTracker t = new LeaseTracker(clock, Duration.ofMillis(1000), Duration.ofMillis(100));
    t.onChanges(java.util.List.of(new dev.understudy.store.Change(Keys.lease("s1"), null,
        Json.write(new Lease("s1", 7, 1)), 3)));
    clock.advance(Duration.ofMillis(400));
    // lease + margin from when this observer applied the renewal: 700 ms to go
    assertThat(t.nanosUntilExpired("s1")).isBetween(Duration.ofMillis(700).toNanos(), Duration.ofMillis(701).toNanos());
    clock.advance(Duration.ofMillis(700));
    assertThat(t.expired("s1")).isFalse();
    clock.advance(Duration.ofMillis(1));
    assertThat(t.expired("s1")).isTrue();
    assertThat(t.nanosUntilExpired("s1")).isZero();
    assertThat(t.nanosUntilExpired("s9")).as("never seen: expired").isZero();
  }

  /**
   * Found by GracefulRestartTest: a direct renewal sent just before an agent's parting renewal (15 s, for a restart)
   * was applied after it. The observer replaced the parting record's count with the renewal's 800 ms, took the app over
   * a second later, and it ran on two servers while the restarting agent's fence still guarded it for the holder's 15 s.
   * The holder counts its lease to the latest end any confirmed write of it gives; so must every observer.
   */
  @Test
  void aRenewalAppliedAfterAPartingOneNeverShortensIt() {
    LeaseTracker t = new LeaseTracker(clock, Duration.ofMillis(800), Duration.ofMillis(80));
    t.onChanges(java.util.List.of(new dev.understudy.store.Change(Keys.lease("s1"), null,
        Json.write(new Lease("s1", 7, 5, 15_000, 80)), 10)));
    clock.advance(Duration.ofMillis(50));
    t.onChanges(java.util.List.of(new dev.understudy.store.Change(Keys.lease("s1"), null,
        Json.write(new Lease("s1", 7, 4, 800, 80)), 11)));
    clock.advance(Duration.ofMillis(2000));
    assertThat(t.expired("s1")).as("the parting lease still runs").isFalse();
    assertThat(t.version("s1")).as("the takeover's condition names the record now in the database").isEqualTo(11);
    clock.advance(Duration.ofMillis(13_100));
    assertThat(t.expired("s1")).isTrue();
  }

  /** A new incarnation (a restarted agent's own lease, or one acquired after a revocation) is counted from its own record. */
  @Test
  void aNewIncarnationIsCountedByItsOwnRecord() {
    LeaseTracker t = new LeaseTracker(clock, Duration.ofMillis(800), Duration.ofMillis(80));
    t.onChanges(java.util.List.of(new dev.understudy.store.Change(Keys.lease("s1"), null,
        Json.write(new Lease("s1", 7, 5, 15_000, 80)), 10)));
    t.onChanges(java.util.List.of(new dev.understudy.store.Change(Keys.lease("s1"), null,
        Json.write(new Lease("s1", 8, 1, 800, 80)), 11)));
    clock.advance(Duration.ofMillis(881));
    assertThat(t.expired("s1")).isTrue();
  }

  /**
   * A holder that parts (stops to restart) says so with its parting lease; observers see it restarting until its next
   * life's first lease write, which also deletes the record, or until the parting lease runs out.
   */
  @Test
  void aPartingHolderIsSeenRestartingUntilItsNextLifeHoldsTheLease() {
    holder.renew(() -> true);
    assertThat(observer.parting("s1")).isFalse();
    assertThat(holder.part(Duration.ofSeconds(15))).isGreaterThan(clock.nanos());
    assertThat(observer.parting("s1")).as("the parting lease and its record").isTrue();
    assertThat(store.localGet(Keys.parting("s1"))).isPresent();
    clock.advance(Duration.ofSeconds(5));
    assertThat(observer.expired("s1")).isFalse();
    assertThat(observer.parting("s1")).isTrue();

    LeaseKeeper nextLife = new LeaseKeeper("s1", store, clock, lease, margin, startSlack);
    nextLife.renew(() -> true);
    assertThat(nextLife.valid()).isTrue();
    assertThat(observer.parting("s1")).as("its next life holds the lease").isFalse();
    assertThat(store.localGet(Keys.parting("s1"))).as("and deleted the record with its first write").isEmpty();

    nextLife.part(Duration.ofSeconds(2));
    assertThat(observer.parting("s1")).isTrue();
    clock.advance(Duration.ofMillis(2_200));
    assertThat(observer.expired("s1")).isTrue();
    assertThat(observer.parting("s1")).as("a lease that ran out is DOWN, not restarting").isFalse();
  }
}
