package dev.understudy.agent;

/** A configuration value broke a rule. The message names the key. */
public class ConfigException extends IllegalArgumentException {
  public ConfigException(String key, String rule) { super("config key " + key + ": " + rule); }

  public ConfigException(String message) { super(message); }
}
