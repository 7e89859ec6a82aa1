package dev.understudy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster CA's files, their checks (each wrong file named) and a rotation picked up without a restart. */
class TlsFilesTest {
  @TempDir Path dir;

  @Test
  void theCaAndAServersPairCheckOutAndKeysAreOwnerOnly() throws Exception {
    ClusterCa ca = ClusterCa.init(dir.resolve("ca"), "c");
    TlsFiles f = ca.issue("s1", List.of("10.0.0.1", "node1.example"), ClusterCa.SERVER_VALIDITY);
    var m = f.load();
    assertThat(m.leaf().getSubjectX500Principal().getName()).contains("CN=s1");
    assertThat(m.leaf().getSubjectAlternativeNames()).extracting(l -> (Object) l.get(1)).containsExactly("10.0.0.1", "node1.example");
    assertThat(m.leaf().getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f.key()))).isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca").resolve("ca.key")))).isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca")))).isEqualTo("rwx------");
  }

  @Test
  void initRefusesToReplaceACa() throws IOException {
    ClusterCa.init(dir.resolve("ca"), "c");
    assertThatThrownBy(() -> ClusterCa.init(dir.resolve("ca"), "c")).hasMessageContaining("already exists");
  }

  @Test
  void eachWrongFileIsNamed() throws IOException {
    ClusterCa ca = ClusterCa.init(dir.resolve("ca"), "c");
    ClusterCa other = ClusterCa.init(dir.resolve("other"), "c");
    TlsFiles s1 = ca.issue("s1", List.of("127.0.0.11"), ClusterCa.SERVER_VALIDITY);
    TlsFiles s2 = ca.issue("s2", List.of("127.0.0.12"), ClusterCa.SERVER_VALIDITY);
    TlsFiles foreign = other.issue("s1", List.of("127.0.0.11"), ClusterCa.SERVER_VALIDITY);
    assertThatThrownBy(() -> new TlsFiles(s1.ca(), s1.cert(), s2.key()).load()).hasMessageContaining(s2.key().toString())
        .hasMessageContaining("not the private key");
    assertThatThrownBy(() -> new TlsFiles(s1.ca(), foreign.cert(), foreign.key()).load()).hasMessageContaining("not signed by the CA");
    assertThatThrownBy(() -> new TlsFiles(dir.resolve("nope.crt"), s1.cert(), s1.key()).load()).hasMessageContaining("nope.crt")
        .hasMessageContaining("does not exist");
    assertThatThrownBy(() -> new TlsFiles(s1.key(), s1.cert(), s1.key()).load()).hasMessageContaining("s1.key");
    assertThatThrownBy(() -> ca.issue("s3", List.of(), ClusterCa.SERVER_VALIDITY)).hasMessageContaining("--address");
    assertThatThrownBy(() -> ca.issue("s3", List.of("bad host!"), ClusterCa.SERVER_VALIDITY)).hasMessageContaining("bad host!");
  }

  @Test
  void aReissuedCertificateIsServedWithoutARestartAndABrokenOneIsNot() throws IOException {
    ClusterCa ca = ClusterCa.init(dir.resolve("ca"), "c");
    TlsFiles f = ca.issue("s1", List.of("127.0.0.11"), ClusterCa.SERVER_VALIDITY);
    ReloadingKeys keys = ReloadingKeys.open(f);
    var km = keys.keyManager();
    var first = km.getCertificateChain(km.chooseEngineServerAlias("EC", null, null))[0];
    ca.issue("s1", List.of("127.0.0.11"), ClusterCa.SERVER_VALIDITY); // the rotation
    await().atMost(Duration.ofSeconds(5)).until(() -> !km.getCertificateChain("understudy")[0].equals(first));
    var second = km.getCertificateChain("understudy")[0];
    assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());

    Path bad = dir.resolve("bad.key");
    Files.writeString(bad, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
    Files.move(bad, f.key(), StandardCopyOption.REPLACE_EXISTING); // a botched rotation
    await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3))
        .until(() -> km.getCertificateChain("understudy")[0].equals(second) && km.getPrivateKey("understudy") != null);
  }
}
