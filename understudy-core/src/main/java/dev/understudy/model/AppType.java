package dev.understudy.model;

/** CAPABLE: an ordinary program the agent starts and stops. AWARE: it uses the client API as well. */
public enum AppType { CAPABLE, AWARE }
