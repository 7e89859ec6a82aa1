package dev.understudy.run;

import dev.understudy.model.App;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Which account each app runs as on this server: its own ({@code command.user}), else this agent's default for apps. */
final class AppAccounts {
  private volatile String defaultUser;
  private volatile String defaultGroup;

  /** The account apps run as when their command names none ({@code apps.user}, {@code apps.group}); null: the agent's. */
  void setDefault(String user, String group) {
    this.defaultUser = user;
    this.defaultGroup = group;
  }

  /** Who {@code app} runs as, or null for the agent's own user. */
  RunAs of(App app) throws IOException {
    // a resource agent runs as root unless its app names an account, as under Pacemaker: most of them add addresses,
    // mount file systems, or switch to the service's own user themselves
    String user = app.command().user() != null ? app.command().user() : ResourceAgents.of(app).isPresent() ? null : defaultUser;
    if (user == null) return null;
    String group = app.command().group() != null ? app.command().group() : app.command().user() != null ? null : defaultGroup;
    return RunAs.resolve(user, group);
  }

  /** Gives {@code dir} (an app's own working directory) to {@code who}, so the app can write where it runs. */
  static void give(Path dir, RunAs who) throws IOException {
    try {
      Files.setAttribute(dir, "unix:uid", who.uid());
      Files.setAttribute(dir, "unix:gid", who.gid());
    } catch (UnsupportedOperationException e) {
      throw new IOException("cannot give " + dir + " to " + who.user() + ": this file system has no owners");
    }
  }
}
