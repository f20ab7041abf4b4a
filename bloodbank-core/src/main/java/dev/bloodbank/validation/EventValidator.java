package dev.bloodbank.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.dialect.Dialect;
import com.networknt.schema.dialect.Dialects;
import com.networknt.schema.keyword.NonValidationKeyword;
import com.networknt.schema.path.PathType;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.registry.EventRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Checks events against the JSON Schemas of an {@link EventRegistry}.
 *
 * <p>Schemas are compiled once per event type and cached (a re-registered type is recompiled).
 * {@code format} is asserted ({@code uuid}, {@code date-time}, ...), and {@code $ref}s to {@code
 * https://schemas.bloodbank.dev/} resolve to the classpath, never to the network. Thread-safe.
 */
public final class EventValidator {
  /** The {@code $id} prefix of catalog schemas, mapped to the classpath. */
  public static final String SCHEMA_ID_PREFIX = "https://schemas.bloodbank.dev/";

  private final EventRegistry registry;
  private final ObjectMapper mapper;
  private final SchemaRegistry schemas;
  private final Map<String, Compiled> compiled = new ConcurrentHashMap<>();
  private volatile @Nullable Schema envelopeSchema;

  private record Compiled(EventDefinition definition, Schema schema) {}

  private EventValidator(EventRegistry registry, ObjectMapper mapper) {
    this.registry = registry;
    this.mapper = mapper;
    SchemaRegistryConfig config =
        SchemaRegistryConfig.builder()
            .pathType(PathType.JSON_POINTER)
            .formatAssertionsEnabled(true)
            .build();
    // Catalog metadata (event type, generated class names) is not validation; declaring it keeps
    // the validator from warning about unknown keywords on every schema.
    Dialect dialect =
        Dialect.builder(Dialects.getDraft202012())
            .keyword(new NonValidationKeyword("x-bloodbank"))
            .keyword(new NonValidationKeyword("javaType"))
            .keyword(new NonValidationKeyword("existingJavaType"))
            .build();
    this.schemas =
        SchemaRegistry.withDefaultDialect(
            dialect,
            b ->
                b.schemaRegistryConfig(config)
                    .schemaLoader(
                        l ->
                            l.fetchRemoteResources(false)
                                .schemaIdResolvers(
                                    r ->
                                        r.mapPrefix(
                                            SCHEMA_ID_PREFIX,
                                            "classpath:dev/bloodbank/schemas/"))));
  }

  /**
   * Returns a validator over a registry, converting typed payloads with the default codec mapper.
   *
   * @param registry the registry
   * @return the validator
   */
  public static EventValidator create(EventRegistry registry) {
    return new EventValidator(
        Objects.requireNonNull(registry, "registry"), EventCodec.defaultObjectMapper());
  }

  /**
   * Returns a validator that converts typed payloads to JSON with this mapper (use the codec's, so
   * what is checked is what is sent).
   *
   * @param registry the registry
   * @param mapper the payload mapper
   * @return the validator
   */
  public static EventValidator create(EventRegistry registry, ObjectMapper mapper) {
    return new EventValidator(
        Objects.requireNonNull(registry, "registry"), Objects.requireNonNull(mapper, "mapper"));
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
   * Checks an envelope's payload against its event type's schema. The envelope fields themselves
   * are valid by construction of {@link EventEnvelope}.
   *
   * @param envelope the event
   * @param mode how strictly
   * @throws SchemaValidationException listing every violation
   */
  public void validate(EventEnvelope<?> envelope, ValidationMode mode) {
    throwIfAny(envelope.eventType(), check(envelope, mode));
  }

  /**
   * Checks an envelope's payload, returning the violations instead of throwing.
   *
   * @param envelope the event
   * @param mode how strictly
   * @return the violations; empty when valid
   */
  public List<Violation> check(EventEnvelope<?> envelope, ValidationMode mode) {
    if (mode == ValidationMode.SKIP) {
      return List.of();
    }
    Object payload = envelope.payload();
    JsonNode tree = payload instanceof JsonNode ? (JsonNode) payload : mapper.valueToTree(payload);
    return checkPayload(envelope.eventType(), tree, mode);
  }

  /**
   * Checks a whole envelope document: the envelope against the catalog's envelope schema, and its
   * payload against its event type's schema.
   *
   * @param envelope the envelope as a JSON tree
   * @param mode how strictly
   * @return the violations; empty when valid
   */
  public List<Violation> check(JsonNode envelope, ValidationMode mode) {
    if (mode == ValidationMode.SKIP) {
      return List.of();
    }
    List<Violation> out = new ArrayList<>();
    Schema env = envelopeSchema();
    if (env != null) {
      out.addAll(violations(env.validate(envelope), Violation.Part.ENVELOPE));
    }
    JsonNode type = envelope.get("event_type");
    JsonNode payload = envelope.get("payload");
    if (type != null && type.isTextual() && payload != null) {
      out.addAll(checkPayload(type.textValue(), payload, mode));
    }
    return out;
  }

  /**
   * Checks a whole envelope document and throws on violations.
   *
   * @param envelope the envelope as a JSON tree
   * @param mode how strictly
   * @throws SchemaValidationException listing every violation
   */
  public void validate(JsonNode envelope, ValidationMode mode) {
    JsonNode type = envelope.get("event_type");
    throwIfAny(type != null ? type.asText() : "?", check(envelope, mode));
  }

  /**
   * Checks a payload against the schema of an event type.
   *
   * @param eventType the event type
   * @param payload the payload as a JSON tree
   * @param mode how strictly; in strict mode an unknown type is a violation
   * @return the violations; empty when valid
   */
  public List<Violation> checkPayload(String eventType, JsonNode payload, ValidationMode mode) {
    if (mode == ValidationMode.SKIP) {
      return List.of();
    }
    EventDefinition def = registry.find(eventType).orElse(null);
    if (def == null) {
      return mode == ValidationMode.STRICT
          ? List.of(
              new Violation(
                  Violation.Part.ENVELOPE,
                  "/event_type",
                  "known",
                  "unknown event type '"
                      + eventType
                      + "' (strict validation accepts only catalog events)"))
          : List.of();
    }
    return violations(schemaFor(def).validate(payload), Violation.Part.PAYLOAD);
  }

  private Schema schemaFor(EventDefinition def) {
    Compiled c = compiled.get(def.eventType());
    if (c == null || c.definition() != def) {
      c = new Compiled(def, compile(def));
      compiled.put(def.eventType(), c);
    }
    return c.schema();
  }

  private Schema compile(EventDefinition def) {
    try {
      JsonNode inline = def.inlineSchema();
      if (inline != null) {
        return schemas.getSchema(SchemaLocation.of("urn:bloodbank:" + def.eventType()), inline);
      }
      return schemas.getSchema(SchemaLocation.of(def.schemaLocation()));
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

  private @Nullable Schema envelopeSchema() {
    Schema s = envelopeSchema;
    if (s == null) {
      String location = registry.envelopeSchemaLocation().orElse(null);
      if (location == null) {
        return null;
      }
      s = schemas.getSchema(SchemaLocation.of(location));
      envelopeSchema = s;
    }
    return s;
  }

  private static List<Violation> violations(List<Error> errors, Violation.Part part) {
    List<Violation> out = new ArrayList<>(errors.size());
    for (Error e : errors) {
      String pointer = e.getInstanceLocation().toString();
      if (pointer.equals("/")) {
        pointer = "";
      }
      String keyword = e.getKeyword() == null ? "" : e.getKeyword();
      if ("required".equals(keyword) && e.getProperty() != null) {
        pointer = pointer + "/" + e.getProperty().replace("~", "~0").replace("/", "~1");
      }
      out.add(new Violation(part, pointer, keyword, message(e)));
    }
    return out;
  }

  private static String message(Error e) {
    String m = String.valueOf(e.getMessage());
    String loc = e.getInstanceLocation().toString();
    if (m.startsWith(loc + ": ")) {
      m = m.substring(loc.length() + 2);
    }
    return m;
  }

  private static void throwIfAny(String eventType, List<Violation> violations) {
    if (!violations.isEmpty()) {
      throw new SchemaValidationException(eventType, violations);
    }
  }
}
