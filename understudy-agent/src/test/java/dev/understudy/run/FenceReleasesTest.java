package dev.understudy.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Finding 2 of #20: the fence killed processes only, so a frozen or cut-off host kept its virtual IP and mount while
 * the taker acquired them. The fence now runs the release itself when it fires, with no agent involved; exactly one of
 * the fence and the agent releases.
 */
class FenceReleasesTest {
  @TempDir Path dir;
  Fence fence;
  final AtomicLong deadline = new AtomicLong();

  FenceReleases releases() throws Exception {
    fence = new Fence(dir, dir.resolve("fence.pid"), () -> {});
    fence.start();
    Files.createDirectories(dir.resolve("logs"));
    return new FenceReleases(fence, dir, dir.resolve("logs"), deadline::get);
  }

  @AfterEach
  void close() {
    if (fence != null) fence.close();
  }

  /** Appends {@code word} and the value of VAR to the trace, as a stop command would act. */
  FenceReleases.Step step(String word) {
    return new FenceReleases.Step(List.of("bash", "-c", "echo " + word + "-$VAR >> " + dir.resolve("trace")), Map.of("VAR", "x'y"), 5000);
  }

  List<String> trace() throws Exception {
    Path t = dir.resolve("trace");
    return Files.exists(t) ? Files.readAllLines(t) : List.of();
  }

  @Test
  void atTheDeadlineTheFenceReleasesByItselfAndTheAgentDoesNotReleaseAgain() throws Exception {
    FenceReleases r = releases();
    deadline.set(System.nanoTime() + 400_000_000L);
    r.arm("db", List.of(step("addr-down"), step("umount")));
    await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(1)).until(() -> trace().isEmpty());
    // nothing more from the agent (it is frozen): the fence acts at the deadline, in order, with the environment
    await().atMost(Duration.ofSeconds(3)).until(() -> trace().size() == 2);
    assertThat(trace()).containsExactly("addr-down-x'y", "umount-x'y");
    assertThat(r.claim("db", 5000)).isEqualTo(FenceReleases.Claim.RELEASED_BY_FENCE);
    assertThat(r.claim("db", 5000)).as("once told, the agent owns whatever comes next").isEqualTo(FenceReleases.Claim.AGENT);
  }

  @Test
  void aReleaseTheAgentClaimedFirstIsNotRunByTheFence() throws Exception {
    FenceReleases r = releases();
    deadline.set(System.nanoTime() + 300_000_000L);
    r.arm("db", List.of(step("umount")));
    assertThat(r.claim("db", 5000)).isEqualTo(FenceReleases.Claim.AGENT);
    await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(2)).until(() -> trace().isEmpty());
    r.done("db");
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.contains(".release")).toList()).isEmpty();
    }
  }

  @Test
  void aReleaseTheFenceFailedIsTheAgentsToRetry() throws Exception {
    FenceReleases r = releases();
    deadline.set(System.nanoTime() + 100_000_000L);
    r.arm("db", List.of(step("umount"), new FenceReleases.Step(List.of("false"), Map.of(), 1000)));
    await().atMost(Duration.ofSeconds(3)).until(() -> trace().size() == 1);
    await().atMost(Duration.ofSeconds(3)).until(() -> Files.exists(dir.resolve("db.release.failed")));
    assertThat(r.claim("db", 5000)).isEqualTo(FenceReleases.Claim.AGENT);
  }

  @Test
  void aDeadFencesAgentReleasesWhatAnEarlierLifeHeld() throws Exception {
    FenceReleases r = releases();
    deadline.set(System.nanoTime() + 60_000_000_000L);
    r.arm("db", List.of(step("umount")));
    Files.writeString(dir.resolve("web.release.failed"), FenceReleases.render(List.of(step("web-down")), dir.resolve("logs/web.log")));
    r.releaseLeftovers(java.util.Set.of());
    assertThat(trace()).containsExactlyInAnyOrder("umount-x'y", "web-down-x'y");
    assertThat(Files.exists(dir.resolve("db.release"))).isFalse();
  }

  @Test
  void anEndOfFileFiresTheReleasesToo() throws Exception {
    FenceReleases r = releases();
    deadline.set(System.nanoTime() + 60_000_000_000L);
    r.arm("db", List.of(step("umount")));
    fence.close(); // the agent died: its fence's stdin closed
    await().atMost(Duration.ofSeconds(3)).until(() -> trace().size() == 1);
  }
}
