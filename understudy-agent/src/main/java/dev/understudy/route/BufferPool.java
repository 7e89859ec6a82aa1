package dev.understudy.route;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * The forwarder's direct buffers, shared by every connection: a connection holds one only while bytes it read wait
 * to be written, so idle connections cost none. The pool never grows past its budget; when it is spent, connections
 * wait to read (backpressure on their senders) instead of the agent running out of direct memory, whose error used to
 * kill the forwarder's thread after some 480 connections. One thread uses it (the forwarder's).
 */
final class BufferPool {
  private final int bufferBytes;
  private int capacity;
  private int allocated;
  private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();

  BufferPool(int bufferBytes, long budgetBytes) {
    this.bufferBytes = bufferBytes;
    this.capacity = (int) Math.max(2, Math.min(Integer.MAX_VALUE, budgetBytes / bufferBytes));
  }

  /** A quarter of what this JVM allows for direct buffers: gRPC (Raft) uses them too. */
  static long defaultBudget() {
    long max = Runtime.getRuntime().maxMemory();
    try {
      var diag = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
      long set = Long.parseLong(diag.getVMOption("MaxDirectMemorySize").getValue());
      if (set > 0) max = set;
    } catch (RuntimeException e) {
      // not HotSpot: the heap's maximum is the usual default for direct memory
    }
    return max / 4;
  }

  /** An empty buffer, or null when the budget is spent (the caller waits for one to come back). */
  ByteBuffer take() {
    ByteBuffer b = free.poll();
    if (b != null) return b;
    if (allocated >= capacity) return null;
    try {
      b = ByteBuffer.allocateDirect(bufferBytes);
    } catch (OutOfMemoryError e) {
      capacity = allocated; // the JVM's limit came first: this is the pool's size from now on
      return null;
    }
    allocated++;
    return b;
  }

  void give(ByteBuffer b) {
    b.clear();
    free.push(b);
  }

  int capacity() { return capacity; }

  int inUse() { return allocated - free.size(); }
}
