package dev.bloodbank.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.EventEnvelope;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One event type of the catalog: its routing key, schema, payload class and whether it is a
 * command.
 *
 * <p>Immutable and thread-safe.
 *
 * @param eventType the event type, also the routing key, e.g. {@code transcription.voice.completed}
 * @param schemaLocation where the JSON Schema of the payload is: a {@code classpath:} location for
 *     catalog events, {@code inline:<event type>} for schemas registered in code
 * @param inlineSchema the schema itself when registered in code, otherwise null (loaded from the
 *     location)
 * @param payloadClassName the generated or registered payload class, or null for untyped events
 * @param payloadClass the payload class when it could be loaded, otherwise null: the event still
 *     works untyped ({@code JsonNode})
 * @param command whether the event is a command, executed by a command processor
 * @param title a short human-readable name
 */
public record EventDefinition(
    String eventType,
    String schemaLocation,
    @Nullable JsonNode inlineSchema,
    @Nullable String payloadClassName,
    @Nullable Class<?> payloadClass,
    boolean command,
    String title) {

  /** Checks the fields. */
  public EventDefinition {
    EventEnvelope.checkEventType(eventType);
    Objects.requireNonNull(schemaLocation, "schemaLocation");
    Objects.requireNonNull(title, "title");
  }

  /**
   * Returns a definition for an application's own event, with its schema given in code.
   *
   * @param eventType the event type
   * @param schema the JSON Schema (Draft 2020-12) of the payload
   * @param payloadClass the payload class, or null for untyped
   * @param command whether the event is a command
   * @return the definition
   */
  public static EventDefinition of(
      String eventType, JsonNode schema, @Nullable Class<?> payloadClass, boolean command) {
    return new EventDefinition(
        eventType,
        "inline:" + eventType,
        Objects.requireNonNull(schema, "schema"),
        payloadClass == null ? null : payloadClass.getName(),
        payloadClass,
        command,
        eventType);
  }

  /**
   * Returns the domain: the event type without its last word ({@code agent.thread} for {@code
   * agent.thread.prompt}), or the event type itself when it has one word.
   *
   * @return the domain
   */
  public String domain() {
    int dot = eventType.lastIndexOf('.');
    return dot < 0 ? eventType : eventType.substring(0, dot);
  }

  /**
   * Returns the payload class, when loadable.
   *
   * @return the class, or empty for untyped events
   */
  public Optional<Class<?>> payloadType() {
    return Optional.ofNullable(payloadClass);
  }
}
