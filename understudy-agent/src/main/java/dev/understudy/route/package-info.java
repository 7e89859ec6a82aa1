/**
 * Client rerouting: each app's cluster port forwarded to its current host, in user space or by nftables. Must not
 * import the agent, the API or the CLI.
 */
package dev.understudy.route;
