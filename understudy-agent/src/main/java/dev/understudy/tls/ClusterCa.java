package dev.understudy.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The cluster CA, kept in one directory: {@code ca.crt} (every agent trusts it) and {@code ca.key} (0600; it signs, so
 * keep it off the servers or at least out of the agents' reach). Each server gets {@code ID.key} and {@code ID.crt}:
 * an EC P-256 key and a certificate naming the server ({@code CN=ID}) and the addresses peers dial it at, good for
 * both ends of a mutual TLS connection.
 */
public final class ClusterCa {
  public static final String CA_CERT = "ca.crt";
  public static final String CA_KEY = "ca.key";
  public static final Duration CA_VALIDITY = Duration.ofDays(3650);
  public static final Duration SERVER_VALIDITY = Duration.ofDays(825);
  private static final Pattern DNS_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path dir;
  private final X509Certificate cert;
  private final PrivateKey key;

  private ClusterCa(Path dir, X509Certificate cert, PrivateKey key) {
    this.dir = dir;
    this.cert = cert;
    this.key = key;
  }

  /** Makes a new CA in {@code dir}; refuses to replace one. */
  public static ClusterCa init(Path dir, String clusterName) throws IOException {
    Pem.refuseExisting(dir.resolve(CA_KEY));
    Pem.refuseExisting(dir.resolve(CA_CERT));
    KeyPair pair = newKeyPair();
    X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "understudy")
        .addRDN(BCStyle.CN, "understudy CA " + clusterName + " " + HexFormat.of().formatHex(randomBytes(4))).build();
    Instant now = Instant.now();
    try {
      var ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minus(Duration.ofHours(1))),
          Date.from(now.plus(CA_VALIDITY)), name, pair.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
      X509Certificate cert = sign(b, pair.getPrivate());
      Pem.writePrivate(dir.resolve(CA_KEY), Pem.encode(pair.getPrivate()));
      Pem.writePublic(dir.resolve(CA_CERT), Pem.encode(cert));
      return new ClusterCa(dir, cert, pair.getPrivate());
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot make the cluster CA: " + e.getMessage(), e);
    }
  }

  /** The CA in {@code dir}, which must hold both its certificate and its key. */
  public static ClusterCa open(Path dir) throws IOException {
    List<X509Certificate> certs = Pem.certificates(dir.resolve(CA_CERT));
    return new ClusterCa(dir, certs.get(0), Pem.privateKey(dir.resolve(CA_KEY)));
  }

  public X509Certificate certificate() { return cert; }

  /** The CA certificate's file: what clients of an HTTPS agent trust. */
  public Path certificateFile() { return dir.resolve(CA_CERT); }

  /**
   * Issues {@code ID.key} and {@code ID.crt} in the CA's directory for server {@code serverId}, naming every address
   * in {@code addresses} (IP addresses and host names peers dial it at), and replaces any earlier pair of that server
   * (a rotation: the agent picks the new pair up on its next connection).
   */
  public TlsFiles issue(String serverId, List<String> addresses, Duration validity) throws IOException {
    if (!DNS_NAME.matcher(serverId).matches()) throw new IllegalArgumentException("server id " + serverId + " cannot name a certificate");
    if (addresses.isEmpty()) throw new IllegalArgumentException("name at least one address the server is dialled at (--address)");
    List<GeneralName> names = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    for (String a : addresses) {
      if (!seen.add(a)) continue;
      names.add(isIpLiteral(a) ? new GeneralName(GeneralName.iPAddress, a) : dnsName(a));
    }
    KeyPair pair = newKeyPair();
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "understudy").addRDN(BCStyle.CN, serverId).build();
    Instant now = Instant.now();
    try {
      var ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(cert, serial(), Date.from(now.minus(Duration.ofHours(1))),
          Date.from(now.plus(validity)), subject, pair.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
          .addExtension(Extension.extendedKeyUsage, false,
              new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
          .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)))
          .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(cert))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
      X509Certificate issued = sign(b, key);
      Path keyFile = dir.resolve(serverId + ".key");
      Path certFile = dir.resolve(serverId + ".crt");
      Pem.writePrivate(keyFile, Pem.encode(pair.getPrivate()));
      Pem.writePublic(certFile, Pem.encode(issued));
      return new TlsFiles(dir.resolve(CA_CERT), certFile, keyFile);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot issue a certificate for " + serverId + ": " + e.getMessage(), e);
    }
  }

  static boolean isIpLiteral(String a) {
    return a.matches("[0-9.]+") || a.contains(":");
  }

  private static GeneralName dnsName(String a) {
    if (!DNS_NAME.matcher(a).matches()) throw new IllegalArgumentException("\"" + a + "\" is neither an IP address nor a host name");
    return new GeneralName(GeneralName.dNSName, a);
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e.getMessage(), e);
    }
  }

  private static KeyPair newKeyPair() throws IOException {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IOException("this JVM cannot make EC P-256 keys: " + e.getMessage(), e);
    }
  }

  private static BigInteger serial() { return new BigInteger(1, randomBytes(16)); }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }
}
