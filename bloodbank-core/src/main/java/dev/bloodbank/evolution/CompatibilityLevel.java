package dev.bloodbank.evolution;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * How a new schema version must relate to the earlier ones, with the meanings of Confluent's schema
 * registry applied to JSON Schema.
 *
 * <p>BACKWARD: a consumer using the new schema reads data written with the old one (every instance
 * valid under the old schema is valid under the new). FORWARD: a consumer still on the old schema
 * reads data written with the new one (every instance valid under the new schema is valid under the
 * old). FULL: both. The {@code _TRANSITIVE} forms check against every earlier version, the others
 * only against the latest. NONE checks nothing.
 *
 * @since 0.2.0
 */
public enum CompatibilityLevel {
  /** No check: every new version is accepted. */
  NONE(false, false, false),
  /** The new schema accepts everything the latest earlier one accepted. */
  BACKWARD(true, false, false),
  /** The new schema accepts everything every earlier one accepted. */
  BACKWARD_TRANSITIVE(true, false, true),
  /** The latest earlier schema accepts everything the new one accepts. */
  FORWARD(false, true, false),
  /** Every earlier schema accepts everything the new one accepts. */
  FORWARD_TRANSITIVE(false, true, true),
  /** {@link #BACKWARD} and {@link #FORWARD}. */
  FULL(true, true, false),
  /** {@link #BACKWARD_TRANSITIVE} and {@link #FORWARD_TRANSITIVE}. */
  FULL_TRANSITIVE(true, true, true);

  private final boolean backward;
  private final boolean forward;
  private final boolean transitive;

  CompatibilityLevel(boolean backward, boolean forward, boolean transitive) {
    this.backward = backward;
    this.forward = forward;
    this.transitive = transitive;
  }

  /**
   * Whether this level requires the new schema to read old data.
   *
   * @return true for the BACKWARD and FULL forms
   */
  public boolean checksBackward() {
    return backward;
  }

  /**
   * Whether this level requires old schemas to read new data.
   *
   * @return true for the FORWARD and FULL forms
   */
  public boolean checksForward() {
    return forward;
  }

  /**
   * Whether this level checks against every earlier version rather than only the latest.
   *
   * @return true for the {@code _TRANSITIVE} forms
   */
  public boolean isTransitive() {
    return transitive;
  }

  /**
   * Reads a level name, ignoring case and accepting {@code -} for {@code _} ({@code
   * full-transitive}).
   *
   * @param name the name, e.g. {@code backward} or {@code FULL_TRANSITIVE}
   * @return the level
   * @throws IllegalArgumentException naming the allowed values when the name is none of them
   */
  public static CompatibilityLevel parse(String name) {
    Objects.requireNonNull(name, "name");
    String n = name.trim().replace('-', '_').toUpperCase(Locale.ROOT);
    for (CompatibilityLevel l : values()) {
      if (l.name().equals(n)) {
        return l;
      }
    }
    throw new IllegalArgumentException(
        "compatibility level '"
            + name
            + "' is not one of "
            + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")));
  }
}
