package dev.understudy.cli;

import dev.understudy.agent.ConfigReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Parameters;

/**
 * Writes what a package installs beside the jar, generated from the CLI itself so it cannot drift from it: the man page
 * ({@code understudy.1}, every command and option), bash completion, and an example agent.yaml with every key commented.
 */
@Command(name = "dist-files", hidden = true, description = "Write the man page, bash completion and example config into DIR.")
final class DistFiles implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "DIR") Path dir;

  @Override
  public Integer call() throws IOException {
    Files.createDirectories(dir);
    CommandLine root = new CommandLine(new Main());
    Files.writeString(dir.resolve("understudy.1"), manPage(root));
    Files.writeString(dir.resolve("understudy.bash"), AutoComplete.bash("understudy", root));
    Files.writeString(dir.resolve("agent.yaml.example"), exampleConfig());
    return 0;
  }

  static String manPage(CommandLine root) {
    StringBuilder b = new StringBuilder();
    String version = root.getCommandSpec().version().length > 0 ? root.getCommandSpec().version()[0] : "understudy";
    b.append(".TH UNDERSTUDY 1 \"\" \"").append(roff(version)).append("\" \"User Commands\"\n");
    b.append(".SH NAME\nunderstudy \\- ").append(roff(String.join(" ", root.getCommandSpec().usageMessage().description()))).append('\n');
    b.append(".SH SYNOPSIS\n.B understudy\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR ...\n");
    b.append(".SH DESCRIPTION\nEvery server runs an agent (\\fBunderstudy agent\\fR). The agents share a Raft-replicated database of the\n"
        + "clustered apps; when a server fails, its backup starts its apps and routes their clients to itself, and never\n"
        + "runs an app on two servers at once. Operators use the commands below, the REST API and the web console.\n");
    b.append(".SH COMMANDS\n");
    commands(b, root, "understudy");
    b.append(".SH FILES\n.TP\n/etc/understudy/agent.yaml\nthe agent's configuration (see /etc/understudy/agent.yaml.example)\n");
    b.append(".TP\n/var/lib/understudy\nthe agent's data: its replica of the database, keys, app logs\n");
    b.append(".SH EXIT STATUS\n");
    for (String line : root.getCommandSpec().usageMessage().footer()) if (!line.isBlank()) b.append(roff(line)).append('\n');
    b.append(".SH SEE ALSO\nThe README, docs/CLI.md, docs/CONFIGURATION.md and docs/APPS.md of the distribution.\n");
    return b.toString();
  }

  private static void commands(StringBuilder b, CommandLine cl, String path) {
    for (CommandLine sub : cl.getSubcommands().values()) {
      CommandSpec spec = sub.getCommandSpec();
      if (spec.usageMessage().hidden() || spec.name().equals("help")) continue;
      String full = path + " " + spec.name();
      if (!full.equals(path + " " + sub.getCommandName())) continue; // an alias
      b.append(".SS ").append(roff(full.substring("understudy ".length()))).append('\n');
      b.append(roff(String.join(" ", spec.usageMessage().description()))).append('\n');
      for (OptionSpec o : spec.options()) {
        if (o.hidden() || o.usageHelp() || o.versionHelp()) continue;
        b.append(".TP\n.B ").append(roff(String.join(", ", o.names())));
        if (o.arity().max() > 0) b.append(" \\fI").append(roff(o.paramLabel())).append("\\fR");
        b.append('\n').append(roff(String.join(" ", o.description()))).append('\n');
      }
      commands(b, sub, full);
    }
  }

  /** Text as roff reads it: backslashes escaped, a leading dot or quote kept from being a request. */
  static String roff(String s) {
    String t = s.replace("\\", "\\e").replace("-", "\\-");
    return t.startsWith(".") || t.startsWith("'") ? "\\&" + t : t;
  }

  static String exampleConfig() {
    StringBuilder b = new StringBuilder("""
        # Understudy agent configuration: /etc/understudy/agent.yaml (copy this file and fill in the first keys).
        # Every key, its default and its meaning; `understudy config check FILE` validates a file without starting.
        # A key is dotted below as it nests in YAML: timing.profile is `timing:` then `  profile: relaxed`.
        #
        # Two servers, a and b, and a witness w, as seen from a (the same file on b and w except server, address,
        # its certificate, and witness: true on w). `understudy tls init` and `understudy tls issue` make the
        # certificates (see the README). Then: systemctl enable --now understudy
        #
        # server: a
        # address: 10.0.0.1
        # dataDir: /var/lib/understudy
        # cluster:
        #   name: prod
        #   secret: "long random string, the same on every server"
        #   token: "another long random string"
        # peers:
        #   - {id: a, address: 10.0.0.1}
        #   - {id: b, address: 10.0.0.2}
        #   - {id: w, address: 10.0.0.3}
        # tls:
        #   ca: /etc/understudy/tls/ca.crt
        #   cert: /etc/understudy/tls/a.crt
        #   key: /etc/understudy/tls/a.key
        #
        # Every key:
        #
        """);
    for (ConfigReference.Row r : ConfigReference.ROWS) {
      b.append("# ").append(r.key()).append(" (default: ").append(r.dflt().replace("`", "")).append(")\n");
      for (String line : wrap(r.meaning().replace("`", ""), 110)) b.append("#     ").append(line).append('\n');
    }
    return b.toString();
  }

  private static java.util.List<String> wrap(String text, int width) {
    java.util.List<String> lines = new java.util.ArrayList<>();
    StringBuilder line = new StringBuilder();
    for (String w : text.split("\\s+")) {
      if (line.length() > 0 && line.length() + 1 + w.length() > width) {
        lines.add(line.toString());
        line.setLength(0);
      }
      if (line.length() > 0) line.append(' ');
      line.append(w);
    }
    if (line.length() > 0) lines.add(line.toString());
    return lines;
  }
}
