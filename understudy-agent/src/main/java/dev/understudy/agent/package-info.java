/**
 * The driver of the core: wires the database, detection, supervisor and forwarding around a
 * {@link dev.understudy.core.NodeCore} that only {@link dev.understudy.agent.CoreLoop} calls, and validates the
 * configuration. Must not import the API or the CLI (the API is handed in as a frontend).
 */
package dev.understudy.agent;
