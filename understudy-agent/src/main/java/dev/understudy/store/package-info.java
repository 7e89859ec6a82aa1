/**
 * The cluster database adapter: a Ratis replica per agent, the deterministic key/value state, and the store
 * interface the rest sees. Imports no other Understudy package but the model's key layout.
 */
package dev.understudy.store;
