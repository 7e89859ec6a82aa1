/**
 * What serves the agent to operators and apps: the REST API, the console, the client API for aware apps, and
 * explanations. Asks the core's operator rules and writes their result; must not import the CLI.
 */
package dev.understudy.api;
