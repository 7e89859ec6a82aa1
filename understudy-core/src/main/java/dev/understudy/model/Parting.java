package dev.understudy.model;

/**
 * A server's agent stopped to restart, with the parting lease of {@code incarnation}: written with that lease, it tells
 * every observer that the server is coming back, not to be given anything new meanwhile. It says nothing once a later
 * incarnation holds the server's lease, which the next life's first lease write makes so (and deletes it).
 */
public record Parting(String server, long incarnation) {}
