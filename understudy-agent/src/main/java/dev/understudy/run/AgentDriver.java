package dev.understudy.run;

import dev.understudy.model.App;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The driver script of agent apps ({@code agent-run.sh}) and the file by which it says the start succeeded. */
final class AgentDriver {
  private final Path script;
  private final Path appsDir;

  AgentDriver(Path runDir, Path appsDir) throws IOException {
    this.script = runDir.resolve("agent-run.sh");
    this.appsDir = appsDir;
    try (InputStream in = AgentDriver.class.getResourceAsStream("agent-run.sh")) {
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  Path script() { return script; }

  /**
   * The started file of this start of {@code app}, none yet: in the app's own directory, which is given to the app's
   * account ({@code who}, null for the agent's) so its driver can write there.
   */
  Path prepare(App app, RunAs who) throws IOException {
    Path dir = appsDir.resolve(app.tag());
    Files.createDirectories(dir);
    if (who != null) AppAccounts.give(dir, who);
    Path marker = dir.resolve(".understudy-started");
    Files.deleteIfExists(marker);
    return marker;
  }
}
