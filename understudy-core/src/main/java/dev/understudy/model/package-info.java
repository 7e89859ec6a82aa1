/**
 * The cluster database's records (apps, leases, revocations, servers, members, events) and their validation. Owns the
 * key layout ({@link dev.understudy.model.Keys}). Imports nothing of Understudy; no I/O.
 */
package dev.understudy.model;
