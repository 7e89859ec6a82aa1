package dev.understudy.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** PEM files: certificates (one or a bundle) and private keys (PKCS#8, or the older EC and RSA forms operators bring). */
public final class Pem {
  private Pem() {}

  public static List<X509Certificate> certificates(Path file) throws IOException {
    byte[] bytes = read(file);
    try {
      List<X509Certificate> out = new ArrayList<>();
      for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes))) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) throw new IOException(file + " holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)");
      return out;
    } catch (GeneralSecurityException e) {
      throw new IOException(file + " is not a PEM certificate file: " + e.getMessage(), e);
    }
  }

  public static PrivateKey privateKey(Path file) throws IOException {
    byte[] bytes = read(file);
    try (Reader r = new java.io.InputStreamReader(new ByteArrayInputStream(bytes), StandardCharsets.US_ASCII);
         PEMParser parser = new PEMParser(r)) {
      Object o = parser.readObject();
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      if (o instanceof PrivateKeyInfo info) return conv.getPrivateKey(info);
      if (o instanceof PEMKeyPair pair) return conv.getPrivateKey(pair.getPrivateKeyInfo());
      throw new IOException(file + " holds no unencrypted private key (expected PEM: -----BEGIN PRIVATE KEY-----)");
    } catch (RuntimeException e) {
      throw new IOException(file + " is not a PEM private key file: " + e.getMessage(), e);
    }
  }

  public static String encode(Object... objects) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      for (Object o : objects) {
        // a private key as PKCS#8 (-----BEGIN PRIVATE KEY-----), the form every TLS stack reads
        if (o instanceof PrivateKey k) w.writeObject(new JcaPKCS8Generator(k, null));
        else w.writeObject(o);
      }
    }
    return out.toString();
  }

  /** Writes {@code text} readable by its owner only (0600), in a directory made 0700 if this creates it. */
  public static void writePrivate(Path file, String text) throws IOException {
    write(file, text, "rw-------");
  }

  /** Writes a public file (a certificate): 0644. */
  public static void writePublic(Path file, String text) throws IOException {
    write(file, text, "rw-r--r--");
  }

  /** Creates {@code dir} (and parents) with mode 0700 where it does not exist yet. */
  public static void privateDirectory(Path dir) throws IOException {
    if (Files.isDirectory(dir)) return;
    Files.createDirectories(dir);
    setMode(dir, "rwx------");
  }

  private static void write(Path file, String text, String mode) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    privateDirectory(parent);
    Path tmp = Files.createTempFile(parent, "." + file.getFileName(), ".tmp");
    try {
      setMode(tmp, mode); // before the content: a secret is never readable by others, not even for a moment
      Files.writeString(tmp, text, StandardCharsets.US_ASCII);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Creates {@code dir} if need be and makes it 0700 either way (a directory that is the agent's alone). */
  public static void ownerOnlyDirectory(Path dir) throws IOException {
    Files.createDirectories(dir);
    setMode(dir, "rwx------");
  }

  public static void setMode(Path p, String mode) throws IOException {
    try {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: nothing to narrow
    }
  }

  static void refuseExisting(Path file) throws IOException {
    if (Files.exists(file)) throw new FileAlreadyExistsException(file + " already exists; remove it first to replace it");
  }

  private static byte[] read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new IOException(file + " does not exist");
    if (!Files.isReadable(file)) throw new IOException(file + " is not readable by this user");
    return Files.readAllBytes(file);
  }
}
