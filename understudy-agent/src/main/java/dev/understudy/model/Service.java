package dev.understudy.model;

/** The app serves TCP: clients reach it on every agent at {@code clusterPort}; the app listens on {@code appPort}. */
public record Service(int clusterPort, int appPort) {}
