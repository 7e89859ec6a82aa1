package dev.understudy.testing;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * An earlier build of the agent, compiled from this repository's history for a test that runs two builds in one
 * cluster (a rolling upgrade): its own classes, with the dependency jars of this build (the commit named has the same
 * dependencies). Compiled once into {@code target/}; empty, saying why, where the history or the build is not there.
 */
public final class PreviousBuild {
  /**
   * The last commit before database and message formats (#23): the release an upgrade starts from. Its entries and
   * heartbeat packets are format 1, and its JSON readers refuse any field they do not know.
   */
  public static final String BEFORE_FORMATS = "260edd6fd6741c22d675972cc3615cb65e8a61fe";

  private PreviousBuild() {}

  /** The classpath of the build at {@code commit}, or why there is none. */
  public static synchronized Result classpath(String commit) {
    try {
      Path repo = repoRoot();
      if (repo == null) return Result.unavailable("not in a git checkout");
      if (run(repo, List.of("git", "cat-file", "-e", commit + "^{commit}"), 60) != 0) {
        return Result.unavailable("commit " + commit.substring(0, 12) + " is not in this clone's history (a shallow clone?)");
      }
      Path out = repo.resolve("understudy-agent/target/previous-" + commit.substring(0, 12)).toAbsolutePath();
      Path done = out.resolve("built");
      if (!Files.exists(done)) {
        deleteTree(out);
        Files.createDirectories(out);
        if (run(repo, List.of("bash", "-c", "git archive " + commit + " | tar -x -C " + out), 120) != 0) {
          return Result.unavailable("git archive of " + commit.substring(0, 12) + " failed");
        }
        String mvn = Files.isExecutable(Path.of("/usr/bin/mvn")) ? "/usr/bin/mvn" : "mvn";
        int rc = run(out, List.of(mvn, "-B", "-q", "-o", "compile", "-pl", "understudy-agent", "-am", "-Dmaven.test.skip=true"), 600);
        if (rc != 0) return Result.unavailable("the build of " + commit.substring(0, 12) + " failed (mvn exit " + rc + "); see " + out);
        Files.writeString(done, commit);
      }
      List<String> cp = new ArrayList<>();
      for (String m : List.of("understudy-client", "understudy-core", "understudy-agent")) {
        cp.add(out.resolve(m).resolve("target/classes").toString());
      }
      for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) if (e.endsWith(".jar")) cp.add(e);
      return new Result(Optional.of(String.join(File.pathSeparator, cp)), null);
    } catch (IOException e) {
      return Result.unavailable(e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Result.unavailable("interrupted");
    }
  }

  /** A classpath, or the reason there is none. */
  public record Result(Optional<String> classpath, String why) {
    static Result unavailable(String why) { return new Result(Optional.empty(), why); }
  }

  private static Path repoRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) if (Files.exists(p.resolve(".git"))) return p;
    return null;
  }

  private static int run(Path dir, List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
    Path log = Path.of("target").toAbsolutePath().resolve("previous-build.log");
    Files.createDirectories(log.getParent());
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (var s = Files.walk(p)) {
      for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
    }
  }
}
