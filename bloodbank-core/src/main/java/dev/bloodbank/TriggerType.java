package dev.bloodbank;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * How an event was triggered: the {@code source.type} of an envelope.
 *
 * <p>An open enumeration: the five values the Python services know are constants, and any other
 * value read from the wire is kept as it is ({@link #isKnown()} is then false) instead of failing
 * the whole event. Immutable and thread-safe.
 */
public final class TriggerType {
  /** Started by a person. */
  public static final TriggerType MANUAL = new TriggerType("manual");

  /** Started by an AI agent; the envelope usually carries an {@link AgentContext}. */
  public static final TriggerType AGENT = new TriggerType("agent");

  /** Started by a timer or cron job. */
  public static final TriggerType SCHEDULED = new TriggerType("scheduled");

  /** Started by a file-system change. */
  public static final TriggerType FILE_WATCH = new TriggerType("file_watch");

  /** Started by an external webhook. */
  public static final TriggerType HOOK = new TriggerType("hook");

  private static final Map<String, TriggerType> KNOWN =
      Map.of(
          MANUAL.value, MANUAL,
          AGENT.value, AGENT,
          SCHEDULED.value, SCHEDULED,
          FILE_WATCH.value, FILE_WATCH,
          HOOK.value, HOOK);

  private final String value;

  private TriggerType(String value) {
    this.value = value;
  }

  /**
   * Returns the trigger type with this wire value, known or not.
   *
   * @param value the wire value, e.g. {@code "manual"}; matched case-insensitively for known ones
   * @return the constant for a known value, otherwise a new instance carrying the value
   * @throws IllegalArgumentException if the value is blank
   */
  public static TriggerType of(String value) {
    Objects.requireNonNull(value, "value");
    if (value.isBlank()) {
      throw new IllegalArgumentException("trigger type must not be blank");
    }
    TriggerType known = KNOWN.get(value.toLowerCase(Locale.ROOT));
    return known != null ? known : new TriggerType(value);
  }

  /**
   * Returns the wire value.
   *
   * @return the value written to {@code source.type}
   */
  public String value() {
    return value;
  }

  /**
   * Returns whether this is one of the constants of this class.
   *
   * @return true for manual, agent, scheduled, file_watch and hook
   */
  public boolean isKnown() {
    return KNOWN.get(value) == this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TriggerType && ((TriggerType) o).value.equals(value);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @Override
  public String toString() {
    return value;
  }
}
