package dev.bloodbank.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.networknt.schema.AbsoluteIri;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.dialect.Dialect;
import com.networknt.schema.dialect.Dialects;
import com.networknt.schema.keyword.NonValidationKeyword;
import com.networknt.schema.path.PathType;
import com.networknt.schema.resource.InputStreamSource;
import dev.bloodbank.AgentContext;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.DecodeLimits;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Source;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.registry.EventRegistry;
import java.io.IOException;
import java.net.URL;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Checks events against the JSON Schemas of an {@link EventRegistry}: the envelope against the
 * catalog's envelope schema, the payload against the schema of its event type.
 *
 * <p>What is checked depends on the {@link ValidationMode}: the validator's own ({@link #mode()},
 * {@link #DEFAULT_MODE} unless set), or one given per call. In {@link ValidationMode#STRICT} an
 * unknown event type is a violation ({@link Violation#UNKNOWN_EVENT_TYPE} at {@code /event_type});
 * in {@link ValidationMode#PERMISSIVE} it passes with only its envelope checked; {@link
 * ValidationMode#SKIP} checks nothing. The envelope is checked only when a catalog on the classpath
 * provides the envelope schema ({@code bloodbank-schemas} does); without one, payloads are still
 * checked.
 *
 * <p>Every violation is reported, each with its JSON pointer relative to the payload or to the
 * envelope (see {@link Violation}). {@code validate} methods throw a {@link
 * SchemaValidationException}; {@code check} methods return the outcome.
 *
 * <p>Schemas are compiled once per event type and cached until the type is re-registered; a typed
 * payload is converted with the validator's mapper ({@code valueToTree}), which must be the codec's
 * so that what is checked is what is sent. For an {@link EventEnvelope} object, the envelope fields
 * are checked as {@link EventCodec#encode} writes them; a combination of event type, version,
 * source and agent context found valid is remembered (up to {@value #HEADER_CACHE_SIZE} of them),
 * since the other fields (id, timestamp, correlation ids) are valid by construction. {@code $ref}s
 * to catalog schema ids resolve on the registry's classpath, never on the network. {@code format}
 * is asserted ({@code uuid}, {@code date-time}, ...).
 *
 * <p>Thread-safe; create one per registry and share it.
 */
public final class EventValidator {
  /** The {@code $id} prefix of the schemas of {@code bloodbank-schemas}. */
  public static final String SCHEMA_ID_PREFIX = "https://schemas.bloodbank.dev/";

  /** The mode of a validator built without one. */
  public static final ValidationMode DEFAULT_MODE = ValidationMode.STRICT;

  /** How many valid envelope headers a validator remembers before it starts over. */
  public static final int HEADER_CACHE_SIZE = 1024;

  private static final JsonNode EMPTY_PAYLOAD = JsonNodeFactory.instance.objectNode();
  // ISO_INSTANT writes other years with a sign or more digits, which RFC 3339 does not allow.
  private static final Instant MIN_RFC3339 = Instant.parse("0000-01-01T00:00:00Z");
  private static final Instant MAX_RFC3339 = Instant.parse("9999-12-31T23:59:59.999999999Z");

  private final EventRegistry registry;
  private final ValidationMode mode;
  private final ObjectMapper mapper;
  private final EventCodec headerCodec;
  private final SchemaRegistry schemas;
  private final Map<String, Compiled> compiled = new ConcurrentHashMap<>();
  private final Map<HeaderKey, Boolean> validHeaders = new ConcurrentHashMap<>();
  private volatile @Nullable Schema envelopeSchema;
  private volatile boolean envelopeSchemaLooked;

  /** Numbers the locations of documents {@link #compile(JsonNode)} compiles. */
  private static final java.util.concurrent.atomic.AtomicLong COMPILED =
      new java.util.concurrent.atomic.AtomicLong();

  private final Object envelopeLock = new Object();

  /**
   * A payload schema: the reference validator, and the fast check that, when it accepts, spares the
   * reference's work (null when the schema uses keywords the fast check does not cover).
   */
  private record Compiled(EventDefinition definition, Schema schema, @Nullable FastSchema fast) {
    void validate(JsonNode payload, List<Violation> out) {
      if (fast == null || !fast.accepts(payload)) {
        addViolations(schema.validate(payload), Violation.Part.PAYLOAD, out);
      }
    }
  }

  /** The envelope fields whose validity is not guaranteed by their Java types. */
  private record HeaderKey(
      String eventType, String version, Source source, @Nullable AgentContext agentContext) {}

  private EventValidator(Builder b) {
    this.registry = b.registry;
    this.mode = b.mode;
    this.mapper = b.mapper != null ? b.mapper : EventCodec.defaultObjectMapper();
    this.headerCodec = EventCodec.create(DecodeLimits.defaults(), mapper);
    SchemaRegistryConfig config =
        SchemaRegistryConfig.builder()
            .pathType(PathType.JSON_POINTER)
            .formatAssertionsEnabled(true)
            .build();
    // Catalog metadata is not validation; declaring it keeps the validator from treating the
    // keywords as unknown.
    Dialect dialect =
        Dialect.builder(Dialects.getDraft202012())
            .keyword(new NonValidationKeyword("x-bloodbank"))
            .keyword(new NonValidationKeyword("javaType"))
            .keyword(new NonValidationKeyword("existingJavaType"))
            .build();
    this.schemas =
        SchemaRegistry.withDefaultDialect(
            dialect,
            sb ->
                sb.schemaRegistryConfig(config)
                    .schemaLoader(
                        l ->
                            l.fetchRemoteResources(false)
                                .resourceLoaders(r -> r.add(this::catalogResource))));
  }

  /** Serves catalog schema ids from the registry's class loader, so $refs never hit the network. */
  private @Nullable InputStreamSource catalogResource(AbsoluteIri iri) {
    URL url = registry.resolveSchemaId(iri.toString()).orElse(null);
    return url == null ? null : url::openStream;
  }

  /**
   * Returns a builder.
   *
   * @param registry the registry whose schemas events are checked against
   * @return a new builder
   */
  public static Builder builder(EventRegistry registry) {
    return new Builder(Objects.requireNonNull(registry, "registry"));
  }

  /**
   * Returns a validator in {@link #DEFAULT_MODE} that converts typed payloads with {@link
   * EventCodec#defaultObjectMapper()}.
   *
   * @param registry the registry
   * @return the validator
   */
  public static EventValidator create(EventRegistry registry) {
    return builder(registry).build();
  }

  /**
   * Returns a validator in a mode that converts typed payloads with {@link
   * EventCodec#defaultObjectMapper()}.
   *
   * @param registry the registry
   * @param mode the default mode
   * @return the validator
   */
  public static EventValidator create(EventRegistry registry, ValidationMode mode) {
    return builder(registry).mode(mode).build();
  }

  /**
   * Returns a validator in {@link #DEFAULT_MODE} that converts typed payloads to JSON with this
   * mapper (use the codec's, so what is checked is what is sent).
   *
   * @param registry the registry
   * @param mapper the payload mapper
   * @return the validator
   */
  public static EventValidator create(EventRegistry registry, ObjectMapper mapper) {
    return builder(registry).objectMapper(mapper).build();
  }

  /**
   * Returns the registry.
   *
   * @return the registry
   */
  public EventRegistry registry() {
    return registry;
  }

  /**
   * Returns the mode of the methods that take none.
   *
   * @return the mode
   */
  public ValidationMode mode() {
    return mode;
  }

  /**
   * Checks an event in the validator's mode and throws if it is invalid.
   *
   * @param envelope the event, typed or with a {@code JsonNode} payload
   * @throws SchemaValidationException naming the event type and listing every violation
   * @throws BloodbankException if the event's schema cannot be loaded or compiled, naming it
   */
  public void validate(EventEnvelope<?> envelope) {
    check(envelope).throwIfInvalid();
  }

  /**
   * Checks an event in a given mode and throws if it is invalid.
   *
   * @param envelope the event
   * @param mode the mode for this call
   * @throws SchemaValidationException naming the event type and listing every violation
   * @throws BloodbankException if the event's schema cannot be loaded or compiled, naming it
   */
  public void validate(EventEnvelope<?> envelope, ValidationMode mode) {
    result(envelope, mode).throwIfInvalid();
  }

  /**
   * Checks an envelope document (as received, v2) in the validator's mode and throws if it is
   * invalid. A legacy v1 document fails the envelope schema: decode it with {@link EventCodec} and
   * check the {@link EventEnvelope} instead.
   *
   * @param envelope the whole envelope as a JSON tree
   * @throws SchemaValidationException naming the event type and listing every violation
   * @throws BloodbankException if the event's schema cannot be loaded or compiled, naming it
   */
  public void validate(JsonNode envelope) {
    check(envelope).throwIfInvalid();
  }

  /**
   * Checks an envelope document in a given mode and throws if it is invalid.
   *
   * @param envelope the whole envelope as a JSON tree
   * @param mode the mode for this call
   * @throws SchemaValidationException naming the event type and listing every violation
   * @throws BloodbankException if the event's schema cannot be loaded or compiled, naming it
   */
  public void validate(JsonNode envelope, ValidationMode mode) {
    result(envelope, mode).throwIfInvalid();
  }

  /**
   * Checks an event in the validator's mode.
   *
   * @param envelope the event, typed or with a {@code JsonNode} payload
   * @return the outcome; never throws for an invalid event
   * @throws BloodbankException if the event's schema cannot be loaded or compiled, naming it
   */
  public ValidationResult check(EventEnvelope<?> envelope) {
    return result(envelope, mode);
  }

  /**
   * Checks an envelope document in the validator's mode.
   *
   * @param envelope the whole envelope as a JSON tree (v2)
   * @return the outcome; never throws for an invalid event
   * @throws BloodbankException if the event's schema cannot be loaded or compiled, naming it
   */
  public ValidationResult check(JsonNode envelope) {
    return result(envelope, mode);
  }

  /**
   * Checks an event in a given mode, returning only the violations.
   *
   * @param envelope the event
   * @param mode the mode for this call
   * @return the violations; empty when valid or not checked
   * @throws BloodbankException if the event's schema cannot be loaded or compiled, naming it
   */
  public List<Violation> check(EventEnvelope<?> envelope, ValidationMode mode) {
    return result(envelope, mode).violations();
  }

  /**
   * Checks an envelope document in a given mode, returning only the violations.
   *
   * @param envelope the whole envelope as a JSON tree (v2)
   * @param mode the mode for this call
   * @return the violations; empty when valid or not checked
   * @throws BloodbankException if the event's schema cannot be loaded or compiled, naming it
   */
  public List<Violation> check(JsonNode envelope, ValidationMode mode) {
    return result(envelope, mode).violations();
  }

  /**
   * Checks a payload alone, without an envelope, in the validator's mode.
   *
   * @param eventType the event type whose schema applies
   * @param payload the payload as a JSON tree
   * @return the outcome; pointers are relative to the payload
   * @throws BloodbankException if the event's schema cannot be loaded or compiled, naming it
   */
  public ValidationResult checkPayload(String eventType, JsonNode payload) {
    return checkPayload(eventType, payload, mode);
  }

  /**
   * Checks a payload alone, without an envelope, in a given mode.
   *
   * @param eventType the event type whose schema applies
   * @param payload the payload as a JSON tree
   * @param mode the mode for this call
   * @return the outcome; pointers are relative to the payload
   * @throws BloodbankException if the event's schema cannot be loaded or compiled, naming it
   */
  public ValidationResult checkPayload(String eventType, JsonNode payload, ValidationMode mode) {
    Objects.requireNonNull(eventType, "eventType");
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(mode, "mode");
    if (mode == ValidationMode.SKIP) {
      return new ValidationResult(eventType, mode, ValidationResult.Coverage.NONE, List.of());
    }
    List<Violation> out = new ArrayList<>(0);
    ValidationResult.Coverage coverage = payloadViolations(eventType, payload, mode, out);
    return new ValidationResult(eventType, mode, coverage, out);
  }

  /**
   * Loads and compiles every schema of the registry now (and the envelope schema), instead of on
   * first use: call it at start-up to fail fast on a broken catalog and keep the first events fast.
   *
   * @return how many event schemas were compiled
   * @throws BloodbankException naming the first schema that cannot be loaded or compiled
   */
  public int precompile() {
    envelopeSchema();
    List<EventDefinition> all = registry.all();
    for (EventDefinition d : all) {
      schemaFor(d);
    }
    return all.size();
  }

  private ValidationResult result(EventEnvelope<?> envelope, ValidationMode mode) {
    Objects.requireNonNull(envelope, "envelope");
    Objects.requireNonNull(mode, "mode");
    String type = envelope.eventType();
    if (mode == ValidationMode.SKIP) {
      return new ValidationResult(type, mode, ValidationResult.Coverage.NONE, List.of());
    }
    List<Violation> out = new ArrayList<>(0);
    envelopeViolations(envelope, out);
    EventDefinition def = registry.find(type).orElse(null);
    if (def == null) {
      return new ValidationResult(type, mode, unknownType(type, mode, out), out);
    }
    Object payload = envelope.payload();
    JsonNode tree;
    try {
      tree = payload instanceof JsonNode ? (JsonNode) payload : mapper.valueToTree(payload);
    } catch (IllegalArgumentException e) {
      throw new BloodbankException(
          "cannot convert the payload of event '"
              + type
              + "' ("
              + payload.getClass().getName()
              + ") to JSON for validation: "
              + e.getMessage(),
          e);
    }
    schemaFor(def).validate(tree, out);
    return new ValidationResult(type, mode, ValidationResult.Coverage.FULL, out);
  }

  private ValidationResult result(JsonNode envelope, ValidationMode mode) {
    Objects.requireNonNull(envelope, "envelope");
    Objects.requireNonNull(mode, "mode");
    JsonNode typeNode = envelope.get("event_type");
    String type = typeNode != null && typeNode.isTextual() ? typeNode.textValue() : "?";
    if (mode == ValidationMode.SKIP) {
      return new ValidationResult(type, mode, ValidationResult.Coverage.NONE, List.of());
    }
    List<Violation> out = new ArrayList<>(0);
    Schema env = envelopeSchema();
    if (env != null) {
      addViolations(env.validate(envelope), Violation.Part.ENVELOPE, out);
    } else if (!envelope.isObject()) {
      out.add(new Violation(Violation.Part.ENVELOPE, "", "type", "envelope is not a JSON object"));
    }
    JsonNode payload = envelope.get("payload");
    if (typeNode == null || !typeNode.isTextual() || payload == null) {
      if (env == null && envelope.isObject()) {
        // Without the envelope schema nobody else reports these.
        if (typeNode == null || !typeNode.isTextual()) {
          out.add(
              new Violation(
                  Violation.Part.ENVELOPE,
                  "/event_type",
                  "required",
                  "event_type is missing or not a string"));
        }
        if (payload == null) {
          out.add(
              new Violation(Violation.Part.ENVELOPE, "/payload", "required", "payload is missing"));
        }
      }
      return new ValidationResult(type, mode, ValidationResult.Coverage.ENVELOPE, out);
    }
    ValidationResult.Coverage coverage = payloadViolations(type, payload, mode, out);
    return new ValidationResult(type, mode, coverage, out);
  }

  private void envelopeViolations(EventEnvelope<?> envelope, List<Violation> out) {
    Schema env = envelopeSchema();
    if (env == null) {
      return;
    }
    HeaderKey key =
        new HeaderKey(
            envelope.eventType(), envelope.version(), envelope.source(), envelope.agentContext());
    Instant ts = envelope.timestamp();
    boolean cacheable = !ts.isBefore(MIN_RFC3339) && !ts.isAfter(MAX_RFC3339);
    if (cacheable && validHeaders.containsKey(key)) {
      return;
    }
    JsonNode header;
    try {
      header = mapper.readTree(headerCodec.encode(envelope.withPayload(EMPTY_PAYLOAD)));
    } catch (IOException e) {
      throw new BloodbankException(
          "cannot read back the envelope of event '" + envelope.eventType() + "'", e);
    }
    int before = out.size();
    addViolations(env.validate(header), Violation.Part.ENVELOPE, out);
    if (cacheable && out.size() == before) {
      if (validHeaders.size() >= HEADER_CACHE_SIZE) {
        validHeaders.clear();
      }
      validHeaders.put(key, Boolean.TRUE);
    }
  }

  private ValidationResult.Coverage payloadViolations(
      String eventType, JsonNode payload, ValidationMode mode, List<Violation> out) {
    EventDefinition def = registry.find(eventType).orElse(null);
    if (def == null) {
      return unknownType(eventType, mode, out);
    }
    schemaFor(def).validate(payload, out);
    return ValidationResult.Coverage.FULL;
  }

  private static ValidationResult.Coverage unknownType(
      String eventType, ValidationMode mode, List<Violation> out) {
    if (mode != ValidationMode.STRICT) {
      return ValidationResult.Coverage.ENVELOPE;
    }
    out.add(
        new Violation(
            Violation.Part.ENVELOPE,
            "/event_type",
            Violation.UNKNOWN_EVENT_TYPE,
            "unknown event type '"
                + eventType
                + "' (strict validation accepts only types in the registry)"));
    return ValidationResult.Coverage.FULL;
  }

  private Compiled schemaFor(EventDefinition def) {
    Compiled c = compiled.get(def.eventType());
    if (c == null || c.definition() != def) {
      // Two threads may compile the same schema at once; either result is correct.
      c = compile(def);
      compiled.put(def.eventType(), c);
    }
    return c;
  }

  private Compiled compile(EventDefinition def) {
    try {
      JsonNode node = registry.schema(def.eventType());
      String location =
          node.path("$id").isTextual() ? node.get("$id").textValue() : def.schemaLocation();
      if (location.startsWith(EventDefinition.INLINE_PREFIX)) {
        location = "urn:bloodbank:" + def.eventType();
      }
      Schema s = schemas.getSchema(SchemaLocation.of(location), node);
      s.initializeValidators();
      return new Compiled(def, s, FastSchema.compile(node));
    } catch (BloodbankException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new BloodbankException(
          "cannot compile the schema of '"
              + def.eventType()
              + "' at "
              + def.schemaLocation()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * Compiles a payload schema that is not the registry's current one for its event type (an older
   * version of it, a candidate), configured as the catalog's schemas are. Relative {@code $ref}s
   * resolve against the schema's {@code $id}, and catalog ids from the class path; nothing is
   * fetched over the network.
   *
   * @param schema the JSON Schema document
   * @return the compiled schema
   * @throws BloodbankException if it cannot be compiled, with the validator's reason
   * @since 0.2.0
   */
  public PayloadSchema compile(JsonNode schema) {
    Objects.requireNonNull(schema, "schema");
    JsonNode copy = schema.deepCopy();
    String id = copy.path("$id").isTextual() ? copy.get("$id").textValue() : null;
    // Compiled documents are known by their id: an older version usually keeps the current one's,
    // so it is compiled without it, at a location of its own that resolves relative $refs the same.
    JsonNode compiledNode = copy;
    String location = "urn:bloodbank:compiled:" + COMPILED.incrementAndGet();
    if (id != null && copy.isObject()) {
      compiledNode = copy.deepCopy();
      ((com.fasterxml.jackson.databind.node.ObjectNode) compiledNode).remove("$id");
      location = id + (id.contains("?") ? "&" : "?") + "compiled=" + COMPILED.incrementAndGet();
    }
    try {
      Schema s = schemas.getSchema(SchemaLocation.of(location), compiledNode);
      s.initializeValidators();
      FastSchema fast = FastSchema.compile(copy);
      return new PayloadSchema() {
        @Override
        public JsonNode schema() {
          return copy.deepCopy();
        }

        @Override
        public List<Violation> check(JsonNode payload) {
          Objects.requireNonNull(payload, "payload");
          if (fast != null && fast.accepts(payload)) {
            return List.of();
          }
          List<Violation> out = new ArrayList<>(0);
          addViolations(s.validate(payload), Violation.Part.PAYLOAD, out);
          return List.copyOf(out);
        }
      };
    } catch (RuntimeException e) {
      throw new BloodbankException("cannot compile the schema " + id + ": " + e.getMessage(), e);
    }
  }

  /** The reference validator for a schema document, configured as for the catalog; for tests. */
  Schema referenceSchema(JsonNode schema) {
    Schema s = schemas.getSchema(SchemaLocation.of("urn:bloodbank:test"), schema);
    s.initializeValidators();
    return s;
  }

  private @Nullable Schema envelopeSchema() {
    Schema s = envelopeSchema;
    if (s == null && !envelopeSchemaLooked) {
      synchronized (envelopeLock) {
        s = envelopeSchema;
        if (s == null && !envelopeSchemaLooked) {
          JsonNode node = registry.envelopeSchema().orElse(null);
          if (node != null) {
            String location = registry.envelopeSchemaLocation().orElseThrow();
            try {
              s = schemas.getSchema(SchemaLocation.of(node.path("$id").asText(location)), node);
              s.initializeValidators();
            } catch (RuntimeException e) {
              throw new BloodbankException(
                  "cannot compile the envelope schema at " + location + ": " + e.getMessage(), e);
            }
            envelopeSchema = s;
          }
          envelopeSchemaLooked = true;
        }
      }
    }
    return s;
  }

  private static void addViolations(List<Error> errors, Violation.Part part, List<Violation> out) {
    for (Error e : errors) {
      String pointer = e.getInstanceLocation().toString();
      if (pointer.equals("/")) {
        pointer = "";
      }
      String keyword = e.getKeyword() == null ? "" : e.getKeyword();
      String property = e.getProperty();
      // These report the object; the field at fault (missing, or not allowed) is more useful.
      if (property != null
          && (keyword.equals("required")
              || keyword.equals("additionalProperties")
              || keyword.equals("unevaluatedProperties"))) {
        pointer = pointer + "/" + property.replace("~", "~0").replace("/", "~1");
      }
      out.add(new Violation(part, pointer, keyword, message(e)));
    }
  }

  private static String message(Error e) {
    String m = String.valueOf(e.getMessage());
    String loc = e.getInstanceLocation().toString();
    if (m.startsWith(loc + ": ")) {
      m = m.substring(loc.length() + 2);
    }
    return m;
  }

  /** Builds an {@link EventValidator}. Not thread-safe. */
  public static final class Builder {
    private final EventRegistry registry;
    private ValidationMode mode = DEFAULT_MODE;
    private @Nullable ObjectMapper mapper;

    private Builder(EventRegistry registry) {
      this.registry = registry;
    }

    /**
     * Sets the mode of the methods that take none. Default: {@link #DEFAULT_MODE} ({@link
     * ValidationMode#STRICT}).
     *
     * @param mode the mode
     * @return this builder
     */
    public Builder mode(ValidationMode mode) {
      this.mode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * Sets the mapper that converts typed payloads to JSON trees, and envelopes' {@code
     * source.meta}. Default: a new {@link EventCodec#defaultObjectMapper()}. Use the codec's (
     * {@link EventCodec#objectMapper()}) so that what is checked is what is sent.
     *
     * @param mapper the mapper; not reconfigured by the validator
     * @return this builder
     */
    public Builder objectMapper(ObjectMapper mapper) {
      this.mapper = Objects.requireNonNull(mapper, "mapper");
      return this;
    }

    /**
     * Builds the validator. Schemas are compiled on first use; see {@link #precompile()}.
     *
     * @return the validator
     */
    public EventValidator build() {
      return new EventValidator(this);
    }
  }
}
