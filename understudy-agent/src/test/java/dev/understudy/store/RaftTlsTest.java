package dev.understudy.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.understudy.testing.Ports;
import dev.understudy.testing.RaftIntruder;
import dev.understudy.tls.ClusterCa;
import dev.understudy.tls.ReloadingKeys;
import dev.understudy.tls.TlsFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Raft port accepts only the cluster's certificates: a client without one, or with one from another CA, neither
 * reads nor writes the database (#21: a plain Ratis client once read it all and wrote apps every agent then ran as
 * root), while replicas with their own certificates replicate as before.
 */
class RaftTlsTest {
  @TempDir Path dir;
  private final List<RaftStore> open = new ArrayList<>();
  private final List<RaftIntruder> intruders = new ArrayList<>();
  private final Map<String, String> addresses = new LinkedHashMap<>();
  private ClusterCa ca;

  private List<RaftStore> startThree() throws IOException {
    ca = ClusterCa.init(dir.resolve("ca"), "tls-test");
    List<StoreConfig.Peer> peers = List.of(
        new StoreConfig.Peer("s1", "127.0.0.11", Ports.free("127.0.0.11")),
        new StoreConfig.Peer("s2", "127.0.0.12", Ports.free("127.0.0.12")),
        new StoreConfig.Peer("s3", "127.0.0.13", Ports.free("127.0.0.13")));
    List<RaftStore> all = new ArrayList<>();
    for (var p : peers) {
      addresses.put(p.id(), p.address());
      TlsFiles f = ca.issue(p.id(), List.of(p.host()), ClusterCa.SERVER_VALIDITY);
      StoreConfig c = new StoreConfig(p.id(), "tls", dir.resolve(p.id()), peers, Duration.ofMillis(150), Duration.ofMillis(300),
          Duration.ofSeconds(3)).withTls(ReloadingKeys.open(f));
      RaftStore s = RaftStore.start(c);
      open.add(s);
      all.add(s);
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> all.stream().anyMatch(RaftStore::isLeader));
    return all;
  }

  private RaftIntruder intruder(ReloadingKeys keys) {
    RaftIntruder i = new RaftIntruder("tls", addresses, keys);
    intruders.add(i);
    return i;
  }

  @AfterEach
  void closeAll() throws IOException {
    for (RaftIntruder i : intruders) i.close();
    open.forEach(RaftStore::close);
  }

  /** The defect this closes, kept as its reproduction: a store without TLS serves anyone who can reach its port. */
  @Test
  void withoutTlsAPlainClientReadsAndWritesEverything() throws IOException {
    List<StoreConfig.Peer> peers = List.of(new StoreConfig.Peer("s1", "127.0.0.11", Ports.free("127.0.0.11")));
    addresses.put("s1", peers.get(0).address());
    RaftStore s = RaftStore.start(new StoreConfig("s1", "tls", dir.resolve("plain"), peers, Duration.ofMillis(150),
        Duration.ofMillis(300), Duration.ofSeconds(3)));
    open.add(s);
    await().atMost(Duration.ofSeconds(30)).until(s::isLeader);
    assertThat(s.put("apps/secret", "\"x\"").ok()).isTrue();
    RaftIntruder plain = intruder(null);
    assertThat(plain.read("apps/")).contains("secret");
    assertThat(plain.write("apps/evil", "{}")).isTrue();
  }

  @Test
  void replicasWithTheClusterCertificatesReplicate() throws IOException {
    var s = startThree();
    assertThat(s.get(0).put("k", "\"v\"").ok()).isTrue();
    await().atMost(Duration.ofSeconds(5)).until(() -> s.get(2).localGet("k").isPresent());
  }

  @Test
  void aClientWithoutACertificateNeitherReadsNorWritesNorJoins() throws IOException {
    var s = startThree();
    assertThat(s.get(0).put("apps/secret", "\"x\"").ok()).isTrue();
    RaftIntruder plain = intruder(null);
    assertThat(plain.write("apps/evil", "{}")).as("a plain client's write").isFalse();
    assertThat(plain.read("apps/")).as("a plain client's read").isNull();
    assertThat(plain.join("s9", "127.0.0.19:1")).as("a plain client's join").isFalse();
    assertThat(s).allSatisfy(r -> assertThat(r.localGet("apps/evil")).isEmpty());
  }

  @Test
  void aClientWithAnotherCasCertificateNeitherReadsNorWrites() throws IOException {
    var s = startThree();
    ClusterCa other = ClusterCa.init(dir.resolve("other-ca"), "other");
    TlsFiles forged = other.issue("s1", List.of("127.0.0.11"), ClusterCa.SERVER_VALIDITY); // the right name, the wrong CA
    RaftIntruder c = intruder(ReloadingKeys.open(forged));
    assertThat(c.write("apps/evil", "{}")).as("a foreign-CA client's write").isFalse();
    assertThat(c.read("apps/")).as("a foreign-CA client's read").isNull();
    assertThat(s).allSatisfy(r -> assertThat(r.localGet("apps/evil")).isEmpty());
  }

  /** A server's reissued certificate is what its Raft port presents from the next handshake on, with no restart. */
  @Test
  void aReissuedServerCertificateIsServedWithoutARestart() throws Exception {
    var s = startThree();
    var ops = ReloadingKeys.open(ca.issue("ops", List.of("127.0.0.1"), ClusterCa.SERVER_VALIDITY));
    java.math.BigInteger before = servedSerial(ops, addresses.get("s1"));
    TlsFiles reissued = ca.issue("s1", List.of("127.0.0.11"), ClusterCa.SERVER_VALIDITY);
    java.math.BigInteger expected = reissued.load().leaf().getSerialNumber();
    assertThat(expected).isNotEqualTo(before);
    await().atMost(Duration.ofSeconds(10)).until(() -> servedSerial(ops, addresses.get("s1")).equals(expected));
    assertThat(s.get(0).put("after-rotation", "1").ok()).isTrue();
    await().atMost(Duration.ofSeconds(5)).until(() -> s.get(1).localGet("after-rotation").isPresent());
  }

  /** The serial number of the certificate {@code hostPort} presents in a fresh TLS handshake. */
  private static java.math.BigInteger servedSerial(ReloadingKeys client, String hostPort) throws Exception {
    javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
    ctx.init(new javax.net.ssl.KeyManager[] {client.keyManager()}, new javax.net.ssl.TrustManager[] {client.trustManager()}, null);
    String[] hp = hostPort.split(":");
    try (javax.net.ssl.SSLSocket sock = (javax.net.ssl.SSLSocket) ctx.getSocketFactory().createSocket(hp[0], Integer.parseInt(hp[1]))) {
      var params = sock.getSSLParameters();
      params.setApplicationProtocols(new String[] {"h2"});
      sock.setSSLParameters(params);
      sock.startHandshake();
      return ((java.security.cert.X509Certificate) sock.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }

  @Test
  void aClientWithAClusterCertificateIsServed() throws IOException {
    startThree();
    RaftIntruder c = intruder(ReloadingKeys.open(ca.issue("ops", List.of("127.0.0.1"), ClusterCa.SERVER_VALIDITY)));
    assertThat(c.write("apps/ok", "{}")).as("the control: the same client, the cluster's certificate").isTrue();
  }
}
