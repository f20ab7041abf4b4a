package dev.bloodbank.server;

import java.util.Locale;

/**
 * What an API key may do. Routes that read nothing secret ({@code /health}, {@code /healthz},
 * {@code /openapi.json}, the dashboard's static files) need no key.
 *
 * @since 0.2.0
 */
public enum Scope {
  /** Publish events: {@code POST /events/...}. */
  PUBLISH,
  /** Read the catalog, schemas, causation chains, the live tail and {@code /metrics}. */
  READ,
  /** Stream audio to {@code /asr}. */
  ASR;

  /** The scope's name in configuration files: {@code publish}, {@code read}, {@code asr}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a scope's configuration name.
   *
   * @throws IllegalArgumentException naming the allowed values
   */
  public static Scope parse(String name) {
    for (Scope s : values()) {
      if (s.configName().equals(name.trim().toLowerCase(Locale.ROOT))) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown scope '" + name + "'; allowed: publish, read, asr");
  }
}
