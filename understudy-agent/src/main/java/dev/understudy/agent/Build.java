package dev.understudy.agent;

/** This build's release, as `understudy --version` prints it and as an agent tells its peers (with the formats it reads). */
public final class Build {
  public static final String VERSION = "0.1.0";

  private Build() {}
}
