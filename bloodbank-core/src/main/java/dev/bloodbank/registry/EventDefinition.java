package dev.bloodbank.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.EventEnvelope;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One event type of the catalog: its routing key, domain, schema, payload class and whether it is a
 * command.
 *
 * <p>Catalog events come from an index on the classpath (see {@link EventRegistry}); an application
 * describes its own with {@link #builder(String)} or {@link #of(String, JsonNode, Class, boolean)}.
 * When the payload class named by an index cannot be loaded (the generated classes are not on the
 * classpath, or a {@link LinkageError}), {@code payloadClassName} is kept, {@code payloadClass} is
 * null, and the event still works untyped: it is validated, and received payloads are {@code
 * JsonNode}s.
 *
 * <p>Immutable and thread-safe: an inline schema is copied in and out.
 *
 * @param eventType the event type, also the routing key, e.g. {@code transcription.voice.completed}
 * @param domain the catalog domain the event belongs to, dot-separated for nested domains (e.g.
 *     {@code voice}, {@code agent.thread}); not necessarily a prefix of the event type
 * @param schemaLocation where the JSON Schema of the payload is: {@code classpath:<resource>} for
 *     catalog events, {@code inline:<event type>} for a schema given in code
 * @param inlineSchema the schema itself when given in code, otherwise null (loaded from the
 *     location)
 * @param payloadClassName the generated or registered payload class, or null for untyped events
 * @param payloadClass the payload class when it could be loaded, otherwise null
 * @param command whether the event is a command, executed by a command processor
 * @param title a short human-readable name; the event type when none is given
 */
public record EventDefinition(
    String eventType,
    String domain,
    String schemaLocation,
    @Nullable JsonNode inlineSchema,
    @Nullable String payloadClassName,
    @Nullable Class<?> payloadClass,
    boolean command,
    String title) {

  /** Prefix of a {@link #schemaLocation()} that names a classpath resource. */
  public static final String CLASSPATH_PREFIX = "classpath:";

  /** Prefix of a {@link #schemaLocation()} for a schema given in code. */
  public static final String INLINE_PREFIX = "inline:";

  /**
   * Checks the fields.
   *
   * @throws IllegalArgumentException if the event type or domain is not dot-separated words, the
   *     location is neither {@code classpath:} nor {@code inline:}, or an inline location has no
   *     schema; the message names the bad value
   */
  public EventDefinition {
    EventEnvelope.checkEventType(eventType);
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(schemaLocation, "schemaLocation");
    Objects.requireNonNull(title, "title");
    try {
      EventEnvelope.checkEventType(domain);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "domain '" + domain + "' of event type " + eventType + " is not dot-separated words", e);
    }
    if (schemaLocation.startsWith(INLINE_PREFIX)) {
      if (inlineSchema == null) {
        throw new IllegalArgumentException(
            "schema location " + schemaLocation + " of " + eventType + " needs an inline schema");
      }
    } else if (!schemaLocation.startsWith(CLASSPATH_PREFIX)
        || schemaLocation.length() == CLASSPATH_PREFIX.length()) {
      throw new IllegalArgumentException(
          "schema location '"
              + schemaLocation
              + "' of "
              + eventType
              + " must be classpath:<resource> or inline:<event type>");
    }
    if (inlineSchema != null) {
      if (!inlineSchema.isObject() && !inlineSchema.isBoolean()) {
        throw new IllegalArgumentException(
            "schema of " + eventType + " must be a JSON object or boolean, not " + inlineSchema);
      }
      inlineSchema = inlineSchema.deepCopy();
    }
    if (payloadClass != null && payloadClassName == null) {
      payloadClassName = payloadClass.getName();
    }
  }

  /**
   * Returns the inline schema, when the schema was given in code.
   *
   * @return a copy of the schema, or null when it is loaded from {@link #schemaLocation()}
   */
  @Override
  public @Nullable JsonNode inlineSchema() {
    return inlineSchema == null ? null : inlineSchema.deepCopy();
  }

  /**
   * Returns a definition for an application's own event, with its schema given in code, in the
   * domain {@link #defaultDomain(String)} and titled by its event type.
   *
   * @param eventType the event type
   * @param schema the JSON Schema (Draft 2020-12 unless it says otherwise) of the payload; copied
   * @param payloadClass the payload class, or null for untyped
   * @param command whether the event is a command
   * @return the definition
   * @throws IllegalArgumentException if the event type is not a routing key
   */
  public static EventDefinition of(
      String eventType, JsonNode schema, @Nullable Class<?> payloadClass, boolean command) {
    Builder b = builder(eventType).schema(schema).command(command);
    if (payloadClass != null) {
      b.payloadClass(payloadClass);
    }
    return b.build();
  }

  /**
   * Returns a builder for an application's own event.
   *
   * @param eventType the event type, also the routing key
   * @return a new builder
   */
  public static Builder builder(String eventType) {
    return new Builder(Objects.requireNonNull(eventType, "eventType"));
  }

  /**
   * Returns the domain an event type belongs to when none is declared: the event type without its
   * last word ({@code agent.thread} for {@code agent.thread.prompt}), or the event type itself when
   * it has one word.
   *
   * @param eventType the event type
   * @return the default domain
   */
  public static String defaultDomain(String eventType) {
    int dot = eventType.lastIndexOf('.');
    return dot < 0 ? eventType : eventType.substring(0, dot);
  }

  /**
   * Returns whether the event belongs to a domain or to a domain nested below it: {@code
   * agent.thread.prompt} (domain {@code agent.thread}) is in {@code agent} and in {@code
   * agent.thread}, not in {@code agent.thr}.
   *
   * @param someDomain the domain, e.g. {@code agent}
   * @return true when {@link #domain()} is that domain or below it
   */
  public boolean inDomain(String someDomain) {
    return domain.equals(someDomain)
        || (domain.length() > someDomain.length()
            && domain.startsWith(someDomain)
            && domain.charAt(someDomain.length()) == '.');
  }

  /**
   * Returns the payload class, when loadable.
   *
   * @return the class, or empty for untyped events
   */
  public Optional<Class<?>> payloadType() {
    return Optional.ofNullable(payloadClass);
  }

  /**
   * Returns the classpath resource of the schema, for catalog events.
   *
   * @return the resource path (e.g. {@code
   *     dev/bloodbank/schemas/voice/transcription.v1.schema.json}), or empty for a schema given in
   *     code
   */
  public Optional<String> schemaResource() {
    return schemaLocation.startsWith(CLASSPATH_PREFIX)
        ? Optional.of(schemaLocation.substring(CLASSPATH_PREFIX.length()))
        : Optional.empty();
  }

  /**
   * Returns a copy bound to another payload class, keeping everything else.
   *
   * @param newPayloadClass the class
   * @return the copy
   */
  public EventDefinition withPayloadClass(Class<?> newPayloadClass) {
    Objects.requireNonNull(newPayloadClass, "newPayloadClass");
    return new EventDefinition(
        eventType,
        domain,
        schemaLocation,
        inlineSchema,
        newPayloadClass.getName(),
        newPayloadClass,
        command,
        title);
  }

  /**
   * Builds an {@link EventDefinition} for an application's own event. A schema is required: either
   * in code ({@link #schema(JsonNode)}) or as a classpath resource ({@link
   * #schemaResource(String)}). Not thread-safe.
   */
  public static final class Builder {
    private final String eventType;
    private @Nullable String domain;
    private @Nullable JsonNode schema;
    private @Nullable String resource;
    private @Nullable Class<?> payloadClass;
    private boolean command;
    private @Nullable String title;

    private Builder(String eventType) {
      this.eventType = eventType;
    }

    /**
     * Sets the domain. Default: {@link EventDefinition#defaultDomain(String)} of the event type.
     *
     * @param domain dot-separated words, e.g. {@code billing} or {@code agent.thread}
     * @return this builder
     */
    public Builder domain(String domain) {
      this.domain = Objects.requireNonNull(domain, "domain");
      return this;
    }

    /**
     * Sets the payload schema, given in code; replaces a {@link #schemaResource(String)}.
     *
     * @param schema a JSON Schema; Draft 2020-12 unless its {@code $schema} says otherwise; copied
     * @return this builder
     */
    public Builder schema(JsonNode schema) {
      this.schema = Objects.requireNonNull(schema, "schema");
      this.resource = null;
      return this;
    }

    /**
     * Sets the payload schema as a classpath resource of the registry's class loader; replaces a
     * {@link #schema(JsonNode)}. Relative {@code $ref}s in it resolve against its {@code $id}.
     *
     * @param resource e.g. {@code com/acme/schemas/order-placed.v1.schema.json}, without a leading
     *     slash
     * @return this builder
     */
    public Builder schemaResource(String resource) {
      Objects.requireNonNull(resource, "resource");
      if (resource.isEmpty() || resource.startsWith("/")) {
        throw new IllegalArgumentException(
            "schema resource '" + resource + "' must be a non-empty path without a leading /");
      }
      this.resource = resource;
      this.schema = null;
      return this;
    }

    /**
     * Sets the payload class. Default: none (received payloads stay {@code JsonNode}).
     *
     * @param payloadClass the class, Jackson-mappable
     * @return this builder
     */
    public Builder payloadClass(Class<?> payloadClass) {
      this.payloadClass = Objects.requireNonNull(payloadClass, "payloadClass");
      return this;
    }

    /**
     * Sets whether the event is a command. Default: false.
     *
     * @param command true for a command
     * @return this builder
     */
    public Builder command(boolean command) {
      this.command = command;
      return this;
    }

    /**
     * Sets a short human-readable name. Default: the event type.
     *
     * @param title the title
     * @return this builder
     */
    public Builder title(String title) {
      this.title = Objects.requireNonNull(title, "title");
      return this;
    }

    /**
     * Builds the definition.
     *
     * @return the definition
     * @throws IllegalArgumentException if no schema was given, or a value is invalid; the message
     *     names it
     */
    public EventDefinition build() {
      if (schema == null && resource == null) {
        throw new IllegalArgumentException(
            "event type " + eventType + " needs a schema: schema(JsonNode) or schemaResource(..)");
      }
      return new EventDefinition(
          eventType,
          domain != null ? domain : defaultDomain(eventType),
          resource != null ? CLASSPATH_PREFIX + resource : INLINE_PREFIX + eventType,
          schema,
          payloadClass == null ? null : payloadClass.getName(),
          payloadClass,
          command,
          title != null ? title : eventType);
    }
  }
}
