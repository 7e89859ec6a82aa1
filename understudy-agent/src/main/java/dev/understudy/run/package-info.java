/**
 * This server's app processes: launch, verified stop, health checks, managed resources, and the fence that kills
 * them when the lease runs out. Must not import the agent, the API or the CLI.
 */
package dev.understudy.run;
