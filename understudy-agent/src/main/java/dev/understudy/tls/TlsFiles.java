package dev.understudy.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * One agent's TLS files: the CA bundle it trusts (one CA, or old and new during a CA rotation), its certificate and
 * its private key. {@link #load()} reads and checks them together, so a wrong file is an error that names it before
 * any connection is tried.
 */
public record TlsFiles(Path ca, Path cert, Path key) {

  /** What the files hold, checked: the key is the certificate's, and a CA in the bundle signed the certificate. */
  public record Material(List<X509Certificate> trusted, X509Certificate[] chain, PrivateKey key) {
    public X509Certificate leaf() { return chain[0]; }
  }

  public Material load() throws IOException {
    List<X509Certificate> trusted = Pem.certificates(ca);
    List<X509Certificate> chain = Pem.certificates(cert);
    PrivateKey privateKey = Pem.privateKey(key);
    X509Certificate leaf = chain.get(0);
    try {
      leaf.checkValidity();
    } catch (CertificateExpiredException e) {
      throw new IOException(cert + " expired on " + leaf.getNotAfter() + "; issue a new one (understudy tls issue)");
    } catch (CertificateNotYetValidException e) {
      throw new IOException(cert + " is not valid before " + leaf.getNotBefore() + " (is this server's clock right?)");
    }
    if (!matches(privateKey, leaf)) throw new IOException(key + " is not the private key of the certificate in " + cert);
    if (trusted.stream().noneMatch(ca -> signedBy(chain.get(chain.size() - 1), ca))) {
      throw new IOException(cert + " (" + leaf.getSubjectX500Principal().getName() + ") is not signed by the CA in " + ca);
    }
    return new Material(trusted, chain.toArray(X509Certificate[]::new), privateKey);
  }

  /** A stamp that changes when any of the three files is replaced or rewritten. */
  String stamp() {
    StringBuilder b = new StringBuilder();
    for (Path p : List.of(ca, cert, key)) {
      try {
        b.append(Files.getLastModifiedTime(p).toMillis()).append('/').append(Files.size(p)).append(';');
      } catch (IOException e) {
        b.append("missing;");
      }
    }
    return b.toString();
  }

  private static boolean signedBy(X509Certificate cert, X509Certificate ca) {
    if (!cert.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) return false;
    try {
      cert.verify(ca.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static boolean matches(PrivateKey key, X509Certificate cert) {
    try {
      String alg = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256with" + key.getAlgorithm();
      byte[] probe = "understudy key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      return v.verify(sig);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
