package dev.understudy.core;

import dev.understudy.decide.DiskState;
import dev.understudy.decide.Verdict;

/**
 * A verdict on a peer and the evidence it rests on. {@code sinceWallMillis} 0 means "not yet observed": a verdict
 * reached before this replica was current, or before the peer ever held a lease, is not an event.
 */
public record PeerStatus(String server, Verdict verdict, long sinceNanos, long sinceWallMillis, boolean lanOk,
                         DiskState disk, boolean leaseExpired, boolean uplinkOk) {}
