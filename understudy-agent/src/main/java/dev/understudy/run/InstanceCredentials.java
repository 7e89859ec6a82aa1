package dev.understudy.run;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/** The credential each instance on this server was started with (its {@code UNDERSTUDY_APP_TOKEN}), for the client API. */
public final class InstanceCredentials {
  private final Map<String, Proc> procs;

  InstanceCredentials(Map<String, Proc> procs) { this.procs = procs; }

  /** Whether {@code token} is the credential of this server's current instance of {@code tag}. */
  public boolean tokenValid(String tag, String token) {
    Proc p = procs.get(tag);
    return p != null && token != null && java.security.MessageDigest.isEqual(p.token.getBytes(StandardCharsets.UTF_8),
        token.getBytes(StandardCharsets.UTF_8));
  }

  /** The credential of this server's current instance of {@code tag} (tests; the instance gets it in its environment). */
  public java.util.Optional<String> tokenOf(String tag) {
    Proc p = procs.get(tag);
    return p == null ? java.util.Optional.empty() : java.util.Optional.of(p.token);
  }

  /** Whether this server's instance of {@code tag} is the host's: running, and not a warm standby still waiting. */
  public boolean hostsInstance(String tag, String token) {
    Proc p = procs.get(tag);
    return p != null && !p.standby && !p.stopRequested && tokenValid(tag, token);
  }

  /** Completes when the agent asks this server's instance of {@code tag} to unload (empty if none runs). */
  public java.util.Optional<java.util.concurrent.CompletableFuture<Void>> unloadRequest(String tag) {
    return java.util.Optional.ofNullable(procs.get(tag)).map(p -> p.unloadRequested);
  }
}
