package dev.bloodbank;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The kind of AI agent behind an event: the {@code agent_context.type} of an envelope.
 *
 * <p>An open enumeration like {@link TriggerType}: values this SDK does not know (the Python
 * services also send {@code claude-chat}, {@code gemini-cli}, {@code smolagent}, ...) are kept as
 * they are and {@link #isKnown()} is false. Immutable and thread-safe.
 */
public final class AgentType {
  /** Anthropic's Claude Code. */
  public static final AgentType CLAUDE_CODE = new AgentType("claude-code");

  /** Google's Gemini. */
  public static final AgentType GEMINI = new AgentType("gemini");

  /** Letta (formerly MemGPT). */
  public static final AgentType LETTA = new AgentType("letta");

  /** Agno. */
  public static final AgentType AGNO = new AgentType("agno");

  /** Any other agent, described by the rest of the context. */
  public static final AgentType CUSTOM = new AgentType("custom");

  private static final Map<String, AgentType> KNOWN =
      Map.of(
          CLAUDE_CODE.value, CLAUDE_CODE,
          GEMINI.value, GEMINI,
          LETTA.value, LETTA,
          AGNO.value, AGNO,
          CUSTOM.value, CUSTOM);

  private final String value;

  private AgentType(String value) {
    this.value = value;
  }

  /**
   * Returns the agent type with this wire value, known or not.
   *
   * @param value the wire value, e.g. {@code "claude-code"}; matched case-insensitively for known
   *     ones
   * @return the constant for a known value, otherwise a new instance carrying the value
   * @throws IllegalArgumentException if the value is blank
   */
  public static AgentType of(String value) {
    Objects.requireNonNull(value, "value");
    if (value.isBlank()) {
      throw new IllegalArgumentException("agent type must not be blank");
    }
    AgentType known = KNOWN.get(value.toLowerCase(Locale.ROOT));
    return known != null ? known : new AgentType(value);
  }

  /**
   * Returns the wire value.
   *
   * @return the value written to {@code agent_context.type}
   */
  public String value() {
    return value;
  }

  /**
   * Returns whether this is one of the constants of this class.
   *
   * @return true for claude-code, gemini, letta, agno and custom
   */
  public boolean isKnown() {
    return KNOWN.get(value) == this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AgentType && ((AgentType) o).value.equals(value);
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
