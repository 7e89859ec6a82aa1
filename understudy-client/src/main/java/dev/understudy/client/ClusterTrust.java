package dev.understudy.client;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Trust in an Understudy cluster's CA for HTTPS to its agents: an agent's API off loopback presents a certificate the
 * cluster CA signed, which no public trust store knows. {@code UNDERSTUDY_CA} names the CA's PEM file, or holds the PEM
 * text itself (as the agent gives it to the apps it starts, which may not read the agent's files).
 */
public final class ClusterTrust {
  private ClusterTrust() {}

  /** The environment's {@code UNDERSTUDY_CA}, or null when it is not set (only the JVM's default trust then). */
  public static SSLContext fromEnvironment() {
    String ca = System.getenv("UNDERSTUDY_CA");
    return ca == null || ca.isBlank() ? null : of(ca);
  }

  /** An SSL context trusting only the certificates in {@code caFileOrPem}: a PEM file's path or PEM text. */
  public static SSLContext of(String caFileOrPem) {
    byte[] pem;
    if (caFileOrPem.contains("-----BEGIN")) {
      pem = caFileOrPem.getBytes(StandardCharsets.US_ASCII);
    } else {
      try {
        pem = Files.readAllBytes(Path.of(caFileOrPem));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the cluster CA certificate " + caFileOrPem + ": " + e.getMessage(), e);
      }
    }
    try {
      Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem));
      if (certs.isEmpty()) throw new IllegalArgumentException("no certificate in the cluster CA " + describe(caFileOrPem));
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int i = 0;
      for (Certificate c : certs) ks.setCertificateEntry("ca-" + i++, c);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("the cluster CA " + describe(caFileOrPem) + " is not a PEM certificate: " + e.getMessage(), e);
    }
  }

  private static String describe(String caFileOrPem) {
    return caFileOrPem.contains("-----BEGIN") ? "(PEM text)" : caFileOrPem;
  }
}
