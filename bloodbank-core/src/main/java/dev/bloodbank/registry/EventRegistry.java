package dev.bloodbank.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.BloodbankException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps event types (routing keys) to payload classes and schemas, and back.
 *
 * <p>{@link #fromClasspath()} reads every catalog index named {@value #CATALOG_RESOURCE} on the
 * classpath; there is no class scanning. Applications add their own events with {@link
 * #register(EventDefinition)}. Looking up an unknown type gives an empty {@code Optional} or, with
 * {@link #require(String)}, an {@link UnknownEventTypeException} naming it and similar known types.
 * Thread-safe.
 */
public final class EventRegistry {
  /** Classpath resource of a catalog index. */
  public static final String CATALOG_RESOURCE = "META-INF/bloodbank/catalog.json";

  private static final Logger LOG = LoggerFactory.getLogger(EventRegistry.class);

  private final Map<String, EventDefinition> byType = new ConcurrentHashMap<>();
  private final Map<Class<?>, EventDefinition> byClass = new ConcurrentHashMap<>();
  private final Map<String, JsonNode> schemas = new ConcurrentHashMap<>();
  private final ClassLoader loader;
  private final ObjectMapper mapper = new ObjectMapper();
  private volatile @Nullable String envelopeSchemaLocation;

  private EventRegistry(ClassLoader loader) {
    this.loader = loader;
  }

  /**
   * Returns an empty registry.
   *
   * @return a registry with no events
   */
  public static EventRegistry empty() {
    return new EventRegistry(EventRegistry.class.getClassLoader());
  }

  /**
   * Returns a registry filled from the catalog indexes on the context class loader's classpath.
   *
   * @return the registry; empty when no catalog is on the classpath
   * @throws BloodbankException if an index is malformed, naming it
   */
  public static EventRegistry fromClasspath() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    return fromClasspath(cl != null ? cl : EventRegistry.class.getClassLoader());
  }

  /**
   * Returns a registry filled from the catalog indexes visible to a class loader.
   *
   * @param loader the class loader for indexes, schemas and payload classes
   * @return the registry
   * @throws BloodbankException if an index is malformed, naming it
   */
  public static EventRegistry fromClasspath(ClassLoader loader) {
    EventRegistry r = new EventRegistry(Objects.requireNonNull(loader, "loader"));
    try {
      Enumeration<URL> indexes = loader.getResources(CATALOG_RESOURCE);
      while (indexes.hasMoreElements()) {
        r.loadIndex(indexes.nextElement());
      }
    } catch (IOException e) {
      throw new BloodbankException("cannot list " + CATALOG_RESOURCE + " resources", e);
    }
    return r;
  }

  private void loadIndex(URL url) {
    JsonNode root;
    try (InputStream in = url.openStream()) {
      root = mapper.readTree(in);
    } catch (IOException e) {
      throw new BloodbankException("cannot read catalog index " + url + ": " + e.getMessage(), e);
    }
    JsonNode envelope = root.path("envelope_schema");
    if (envelope.isTextual()) {
      envelopeSchemaLocation = "classpath:" + envelope.textValue();
    }
    JsonNode events = root.path("events");
    if (!events.isArray()) {
      throw new BloodbankException("catalog index " + url + " has no 'events' array");
    }
    for (int i = 0; i < events.size(); i++) {
      JsonNode e = events.get(i);
      String at = url + " /events/" + i;
      String type = text(e, "event_type", at);
      String schema = text(e, "schema", at);
      String className =
          e.path("payload_class").isTextual() ? e.get("payload_class").asText() : null;
      Class<?> cls = null;
      if (className != null) {
        try {
          cls = Class.forName(className, false, loader);
        } catch (ClassNotFoundException | LinkageError ex) {
          LOG.warn(
              "payload class {} of {} is not loadable; the event stays untyped", className, type);
        }
      }
      EventDefinition def;
      try {
        def =
            new EventDefinition(
                type,
                "classpath:" + schema,
                null,
                className,
                cls,
                e.path("command").asBoolean(false),
                e.path("title").asText(type));
      } catch (IllegalArgumentException ex) {
        throw new BloodbankException(at + ": " + ex.getMessage(), ex);
      }
      register(def);
    }
  }

  private static String text(JsonNode e, String field, String at) {
    JsonNode n = e.get(field);
    if (n == null || !n.isTextual() || n.asText().isBlank()) {
      throw new BloodbankException("catalog index entry " + at + " has no '" + field + "'");
    }
    return n.asText();
  }

  /**
   * Adds or replaces an event definition.
   *
   * @param definition the definition
   * @return this registry
   */
  public EventRegistry register(EventDefinition definition) {
    Objects.requireNonNull(definition, "definition");
    EventDefinition old = byType.put(definition.eventType(), definition);
    if (old != null && old.payloadClass() != null) {
      byClass.remove(old.payloadClass(), old);
    }
    schemas.remove(definition.eventType());
    if (definition.payloadClass() != null) {
      byClass.put(definition.payloadClass(), definition);
    }
    return this;
  }

  /**
   * Binds an event type to another payload class, keeping its schema: e.g. a command class that
   * extends the generated payload class and implements {@code dev.bloodbank.command.Invokable}.
   *
   * @param eventType a registered event type
   * @param payloadClass the class received payloads are mapped to from now on
   * @return the new definition
   * @throws UnknownEventTypeException if the type is not registered
   */
  public EventDefinition bind(String eventType, Class<?> payloadClass) {
    Objects.requireNonNull(payloadClass, "payloadClass");
    EventDefinition d = require(eventType);
    EventDefinition bound =
        new EventDefinition(
            d.eventType(),
            d.schemaLocation(),
            d.inlineSchema(),
            payloadClass.getName(),
            payloadClass,
            d.command(),
            d.title());
    register(bound);
    return bound;
  }

  /**
   * Looks up an event type.
   *
   * @param eventType the routing key
   * @return the definition, or empty when unknown
   */
  public Optional<EventDefinition> find(String eventType) {
    return Optional.ofNullable(byType.get(eventType));
  }

  /**
   * Looks up an event type that must exist.
   *
   * @param eventType the routing key
   * @return the definition
   * @throws UnknownEventTypeException naming the type and similar known ones
   */
  public EventDefinition require(String eventType) {
    EventDefinition d = byType.get(eventType);
    if (d == null) {
      throw new UnknownEventTypeException(eventType, similar(eventType));
    }
    return d;
  }

  /**
   * Returns whether an event type is known.
   *
   * @param eventType the routing key
   * @return true when registered
   */
  public boolean contains(String eventType) {
    return byType.containsKey(eventType);
  }

  /**
   * Looks up the event whose payload class this is.
   *
   * @param payloadClass the class
   * @return the definition, or empty
   */
  public Optional<EventDefinition> findByPayloadClass(Class<?> payloadClass) {
    return Optional.ofNullable(byClass.get(payloadClass));
  }

  /**
   * Returns the event type of a payload class.
   *
   * @param payloadClass the class
   * @return the routing key
   * @throws UnknownEventTypeException if no event has this payload class
   */
  public String eventTypeOf(Class<?> payloadClass) {
    EventDefinition d = byClass.get(payloadClass);
    if (d == null) {
      throw new UnknownEventTypeException(payloadClass.getName(), List.of());
    }
    return d.eventType();
  }

  /**
   * Returns every definition, sorted by event type.
   *
   * @return a snapshot
   */
  public List<EventDefinition> all() {
    List<EventDefinition> list = new ArrayList<>(byType.values());
    list.sort(Comparator.comparing(EventDefinition::eventType));
    return Collections.unmodifiableList(list);
  }

  /**
   * Returns the commands, sorted by event type.
   *
   * @return a snapshot
   */
  public List<EventDefinition> commands() {
    return all().stream().filter(EventDefinition::command).toList();
  }

  /**
   * Returns every domain: each proper prefix of an event type ({@code agent} and {@code
   * agent.thread} for {@code agent.thread.prompt}).
   *
   * @return sorted domains
   */
  public Set<String> domains() {
    Set<String> out = new TreeSet<>();
    for (String type : byType.keySet()) {
      int dot = type.indexOf('.');
      while (dot > 0) {
        out.add(type.substring(0, dot));
        dot = type.indexOf('.', dot + 1);
      }
    }
    return Collections.unmodifiableSet(out);
  }

  /**
   * Returns the events of a domain and of its sub-domains.
   *
   * @param domain e.g. {@code fireflies} or {@code agent.thread}
   * @return sorted definitions; empty for an unknown domain
   */
  public List<EventDefinition> events(String domain) {
    String prefix = domain + ".";
    return all().stream().filter(d -> d.eventType().startsWith(prefix)).toList();
  }

  /**
   * Returns the JSON Schema of an event's payload, loading it once.
   *
   * @param eventType the routing key
   * @return the schema
   * @throws UnknownEventTypeException if the type is unknown
   * @throws BloodbankException if the schema resource is missing or malformed, naming it
   */
  public JsonNode schema(String eventType) {
    EventDefinition d = require(eventType);
    if (d.inlineSchema() != null) {
      return d.inlineSchema();
    }
    return schemas.computeIfAbsent(eventType, t -> loadSchema(d.schemaLocation()));
  }

  /**
   * Returns where the envelope schema is, when a catalog provides one.
   *
   * @return a {@code classpath:} location, or empty
   */
  public Optional<String> envelopeSchemaLocation() {
    return Optional.ofNullable(envelopeSchemaLocation);
  }

  /**
   * Returns the class loader schemas and payload classes are loaded with.
   *
   * @return the class loader
   */
  public ClassLoader classLoader() {
    return loader;
  }

  private JsonNode loadSchema(String location) {
    String path = location.startsWith("classpath:") ? location.substring(10) : location;
    try (InputStream in = loader.getResourceAsStream(path)) {
      if (in == null) {
        throw new BloodbankException("schema resource " + location + " is not on the classpath");
      }
      return mapper.readTree(in);
    } catch (IOException e) {
      throw new BloodbankException("cannot read schema " + location + ": " + e.getMessage(), e);
    }
  }

  private List<String> similar(String eventType) {
    Map<Integer, List<String>> byDistance = new TreeMap<>();
    for (String known : byType.keySet()) {
      int d = distance(eventType, known);
      if (d <= Math.max(2, eventType.length() / 4)) {
        byDistance.computeIfAbsent(d, k -> new ArrayList<>()).add(known);
      }
    }
    List<String> out = new ArrayList<>();
    for (List<String> l : byDistance.values()) {
      Collections.sort(l);
      for (String s : l) {
        if (out.size() < 3) {
          out.add(s);
        }
      }
    }
    return out;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
