package dev.understudy.tls;

import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A key manager and a trust manager over one agent's {@link TlsFiles} that re-read the files, at most once a second,
 * when one of them changed: a rotated certificate or CA bundle is used from the next handshake on, with no restart.
 * A replacement that does not check out (half-written, wrong key, not signed by the CA) is logged and the previous
 * material kept, so a botched rotation does not cut the agent off.
 */
public final class ReloadingKeys {
  private static final Logger log = LoggerFactory.getLogger(ReloadingKeys.class);
  private static final String ALIAS = "understudy";
  private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

  private record Loaded(String stamp, TlsFiles.Material material, X509ExtendedTrustManager trust) {}

  private final TlsFiles files;
  private volatile Loaded current;
  private volatile long checkedAt;

  private ReloadingKeys(TlsFiles files, Loaded first) {
    this.files = files;
    this.current = first;
    this.checkedAt = System.nanoTime();
  }

  /** Reads and checks the files now: an agent with bad TLS files does not start. */
  public static ReloadingKeys open(TlsFiles files) throws IOException {
    return new ReloadingKeys(files, load(files));
  }

  private static Loaded load(TlsFiles files) throws IOException {
    String stamp = files.stamp();
    TlsFiles.Material m = files.load();
    try {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      for (int i = 0; i < m.trusted().size(); i++) ks.setCertificateEntry("ca-" + i, m.trusted().get(i));
      TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      f.init(ks);
      for (TrustManager t : f.getTrustManagers()) {
        if (t instanceof X509ExtendedTrustManager x) return new Loaded(stamp, m, x);
      }
      throw new IOException("this JVM offers no X509ExtendedTrustManager");
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use the CA bundle " + files.ca() + ": " + e.getMessage(), e);
    }
  }

  private Loaded current() {
    long now = System.nanoTime();
    if (now - checkedAt < RECHECK_NANOS) return current;
    synchronized (this) {
      if (now - checkedAt < RECHECK_NANOS) return current;
      checkedAt = now;
      String stamp = files.stamp();
      if (!stamp.equals(current.stamp())) {
        try {
          current = load(files);
          log.info("TLS files reloaded: {} (valid until {})", current.material().leaf().getSubjectX500Principal().getName(),
              current.material().leaf().getNotAfter());
        } catch (IOException e) {
          log.warn("TLS files changed but cannot be used, keeping the previous ones: {}", e.getMessage());
        }
      }
      return current;
    }
  }

  /**
   * A TLS context that presents this server's certificate and trusts only the cluster CA, both as reloaded: for the
   * API's HTTPS and for agent-to-agent requests.
   */
  public javax.net.ssl.SSLContext sslContext() {
    try {
      javax.net.ssl.SSLContext c = javax.net.ssl.SSLContext.getInstance("TLS");
      c.init(new javax.net.ssl.KeyManager[] {keyManager()}, new TrustManager[] {trustManager()}, null);
      return c;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM offers no TLS context: " + e.getMessage(), e);
    }
  }

  public X509ExtendedKeyManager keyManager() {
    return new X509ExtendedKeyManager() {
      private String alias(String... keyTypes) {
        String alg = current().material().key().getAlgorithm();
        if (keyTypes == null) return ALIAS;
        for (String t : keyTypes) if (t != null && (t.equalsIgnoreCase(alg) || t.toUpperCase().startsWith(alg.toUpperCase()))) return ALIAS;
        return null;
      }

      @Override public String[] getClientAliases(String keyType, Principal[] issuers) { return aliases(alias(keyType)); }
      @Override public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) { return alias(keyType); }
      @Override public String[] getServerAliases(String keyType, Principal[] issuers) { return aliases(alias(keyType)); }
      @Override public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) { return alias(keyType); }
      @Override public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) { return alias(keyType); }
      @Override public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) { return alias(keyType); }
      @Override public X509Certificate[] getCertificateChain(String alias) {
        return ALIAS.equals(alias) ? current().material().chain().clone() : null;
      }
      @Override public PrivateKey getPrivateKey(String alias) { return ALIAS.equals(alias) ? current().material().key() : null; }
    };
  }

  private static String[] aliases(String a) { return a == null ? null : new String[] {a}; }

  public X509ExtendedTrustManager trustManager() {
    return new X509ExtendedTrustManager() {
      private X509ExtendedTrustManager t() { return current().trust(); }
      @Override public void checkClientTrusted(X509Certificate[] chain, String authType, Socket s) throws CertificateException { t().checkClientTrusted(chain, authType, s); }
      @Override public void checkServerTrusted(X509Certificate[] chain, String authType, Socket s) throws CertificateException { t().checkServerTrusted(chain, authType, s); }
      @Override public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine e) throws CertificateException { t().checkClientTrusted(chain, authType, e); }
      @Override public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine e) throws CertificateException { t().checkServerTrusted(chain, authType, e); }
      @Override public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException { t().checkClientTrusted(chain, authType); }
      @Override public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException { t().checkServerTrusted(chain, authType); }
      @Override public X509Certificate[] getAcceptedIssuers() { return t().getAcceptedIssuers(); }
    };
  }
}
