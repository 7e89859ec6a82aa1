/**
 * The {@code understudy} command: picocli commands, a local cluster of agent processes, the demo. The top of the
 * shipped jar: nothing imports it.
 */
package dev.understudy.cli;
