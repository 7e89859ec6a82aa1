/**
 * The node's state machine: everything one agent decides, with no thread, clock, file or socket.
 *
 * <p>The contract, in the manner of etcd raft's {@code RawNode}:
 * <ul>
 *   <li>One caller. Only the agent's loop (or the simulator's step) calls a {@link dev.understudy.core.NodeCore};
 *       every other thread posts {@link dev.understudy.core.Input}s to that loop.</li>
 *   <li>Every input carries {@code now} (the node's monotonic clock, in nanoseconds) where time matters; the core never
 *       reads a clock.</li>
 *   <li>After inputs, {@link dev.understudy.core.NodeCore#ready()} says what to do: starts, stops, promotions, commits,
 *       events, routes, the instant to wake. The caller carries it out, feeds each commit's result back
 *       ({@link dev.understudy.core.Input.WriteDone} or, when the outcome is unknown,
 *       {@link dev.understudy.core.Input.WriteUnknown}) and then calls {@link dev.understudy.core.NodeCore#advance}.</li>
 *   <li>A start is never in a ready while the replica it was decided from may lack one of this node's own writes
 *       (PROTOCOL.md R4), and a write whose outcome is unknown counts as possibly applied until the replica shows the
 *       app at another version (R4b).</li>
 *   <li>{@link dev.understudy.core.NodeCore#status()} is immutable: the API, console and metrics read it from any
 *       thread.</li>
 * </ul>
 *
 * <p>Must not import: the agent, the database adapter, Jackson's databind, SLF4J, or anything that does I/O.
 */
package dev.understudy.core;
