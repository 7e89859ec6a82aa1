package dev.understudy.client;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster CA from a PEM file or from its text (how apps get it), and clear errors for anything else. */
class ClusterTrustTest {
  @TempDir Path dir;

  private Path caPem() throws Exception {
    Path ks = dir.resolve("ca.p12");
    Path pem = dir.resolve("ca.crt");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    run(List.of(keytool, "-genkeypair", "-keystore", ks.toString(), "-storepass", "changeit", "-alias", "ca",
        "-dname", "CN=test CA", "-keyalg", "EC", "-ext", "bc:c"));
    run(List.of(keytool, "-exportcert", "-rfc", "-keystore", ks.toString(), "-storepass", "changeit", "-alias", "ca",
        "-file", pem.toString()));
    return pem;
  }

  private static void run(List<String> argv) throws Exception {
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) throw new AssertionError(argv + " failed: " + out);
  }

  @Test
  void aFileAndItsTextAreTheSameTrust() throws Exception {
    Path pem = caPem();
    assertNotNull(ClusterTrust.of(pem.toString()));
    assertNotNull(ClusterTrust.of(Files.readString(pem)));
  }

  @Test
  void aMissingFileIsNamed() {
    var e = assertThrows(UncheckedIOException.class, () -> ClusterTrust.of(dir.resolve("nope.crt").toString()));
    assertTrue(e.getMessage().contains("nope.crt"), e.getMessage());
  }

  @Test
  void somethingThatIsNoCertificateIsNamed() throws Exception {
    Path junk = Files.writeString(dir.resolve("junk.crt"), "not a certificate");
    var e = assertThrows(IllegalArgumentException.class, () -> ClusterTrust.of(junk.toString()));
    assertTrue(e.getMessage().contains("junk.crt"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ClusterTrust.of("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
  }
}
