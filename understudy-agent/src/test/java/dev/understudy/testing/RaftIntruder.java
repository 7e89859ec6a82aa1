package dev.understudy.testing;

import dev.understudy.tls.ReloadingKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.io.netty.handler.ssl.SslProvider;
import org.apache.ratis.util.TimeDuration;

/**
 * A Ratis client as an intruder would write it: it knows the cluster's name (so its Raft group) and the peers'
 * addresses, and brings no certificate or one of its own choosing. Each attempt reports whether the cluster served it.
 */
public final class RaftIntruder implements AutoCloseable {
  private final RaftClient client;
  private final RaftGroup group;

  /** {@code peers}: id to host:port. {@code keys}: the certificate it presents, or null for none (plain gRPC). */
  public RaftIntruder(String clusterName, java.util.Map<String, String> peers, ReloadingKeys keys) {
    UUID uuid = UUID.nameUUIDFromBytes(("understudy:" + clusterName).getBytes(StandardCharsets.UTF_8));
    group = RaftGroup.valueOf(RaftGroupId.valueOf(uuid),
        peers.entrySet().stream().map(e -> RaftPeer.newBuilder().setId(e.getKey()).setAddress(e.getValue()).build()).toList());
    Parameters params = new Parameters();
    if (keys != null) {
      GrpcConfigKeys.TLS.setConf(params, GrpcTlsConfig.newBuilder().setKeyManager(keys.keyManager())
          .setTrustManager(keys.trustManager()).setMutualTls(true).setSslProvider(SslProvider.JDK).build());
    }
    RaftProperties props = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(props, TimeDuration.valueOf(1, TimeUnit.SECONDS));
    client = RaftClient.newBuilder().setProperties(props).setParameters(params).setRaftGroup(group)
        .setClientId(ClientId.randomId())
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(3, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
        .build();
  }

  /** Tries to write {@code key}; true when the cluster applied it. */
  public boolean write(String key, String jsonValue) {
    String txn = "{\"ops\":[{\"op\":\"PUT\",\"key\":\"" + key + "\",\"value\":" + quote(jsonValue) + "}]}";
    try {
      return client.io().send(Message.valueOf(txn)).isSuccess();
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Tries to list keys under {@code prefix}; the answer, or null when it was not served. */
  public String read(String prefix) {
    try {
      var reply = client.io().sendReadOnly(Message.valueOf("{\"prefix\":\"" + prefix + "\"}"));
      return reply.isSuccess() ? reply.getMessage().getContent().toString(StandardCharsets.UTF_8) : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Tries to make itself a member (a join); true when the cluster took the new configuration. */
  public boolean join(String id, String address) {
    try {
      List<RaftPeer> members = new java.util.ArrayList<>(group.getPeers());
      members.add(RaftPeer.newBuilder().setId(id).setAddress(address).build());
      return client.admin().setConfiguration(members).isSuccess();
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  @Override
  public void close() throws IOException { client.close(); }
}
