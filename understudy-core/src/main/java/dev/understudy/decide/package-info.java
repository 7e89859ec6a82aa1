/**
 * The pure decision rules: what a server does with an app given the database as its replica applied it and what it
 * knows locally ({@link dev.understudy.decide.Decider}), bounded failures, verdicts. Imports only the model; no I/O,
 * no clock (every call takes {@code now}).
 */
package dev.understudy.decide;
