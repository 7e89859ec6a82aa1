/**
 * The I/O of failure detection and leases: LAN heartbeats, the disk pulse, the uplink check, the lease holder,
 * the leader's renewal batcher and the observer. Verdicts themselves are the core's. Must not import the agent,
 * the API or the CLI.
 */
package dev.understudy.detect;
