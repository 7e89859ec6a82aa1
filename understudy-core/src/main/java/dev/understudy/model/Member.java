package dev.understudy.model;

/**
 * A server added to (or removed from) a running cluster by an operator. The servers of the agents' configuration
 * files are members too; this record is how every agent learns of the others. {@code order} fixes the server's place
 * (voter or listener, disk pulse slot) for the cluster's whole life.
 */
public record Member(String id, String address, int apiPort, int raftPort, int heartbeatPort, int order, boolean removed) {}
