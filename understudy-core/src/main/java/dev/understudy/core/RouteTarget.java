package dev.understudy.core;

/**
 * Where an app's cluster port forwards: its host's address and the app's port, or nowhere ({@code address} null)
 * while no reachable host runs it, so new connections wait.
 */
public record RouteTarget(String tag, int clusterPort, String address, int appPort) {
  public boolean up() { return address != null; }
}
