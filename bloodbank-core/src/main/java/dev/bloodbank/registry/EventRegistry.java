package dev.bloodbank.registry;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.BloodbankException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
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
 * Maps event types (routing keys) to their definitions (domain, payload class, JSON Schema, command
 * flag), and payload classes back to event types.
 *
 * <p>{@link #fromClasspath()} reads every catalog index named {@value #CATALOG_RESOURCE} that the
 * class loader can see ({@link ClassLoader#getResources(String)}); there is no class or package
 * scanning. {@code bloodbank-schemas} ships one, written at build time from its schema files, and
 * any other jar may ship its own in the same format (see that module's README). bloodbank-core does
 * not depend on bloodbank-schemas: without it on the classpath the registry starts empty. An index
 * whose payload class cannot be loaded still defines the event, untyped (see {@link
 * EventDefinition}). Applications add or replace events with {@link #register(EventDefinition)}.
 *
 * <p>Looking up an unknown type is never a null: {@link #find(String)} returns an empty {@code
 * Optional}, and {@link #require(String)} throws an {@link UnknownEventTypeException} naming the
 * type and up to three similar known ones.
 *
 * <p>Thread-safe: lookups are lock-free and see each registration whole; registrations are
 * serialized. Lists returned are immutable snapshots.
 */
public final class EventRegistry {
  /** Classpath resource name of a catalog index. */
  public static final String CATALOG_RESOURCE = "META-INF/bloodbank/catalog.json";

  /**
   * Classpath folder of released schema versions: {@code <prefix><event type>/v<N>.schema.json}.
   *
   * @since 0.2.0
   */
  public static final String HISTORY_RESOURCE_PREFIX = "META-INF/bloodbank/schema-history/";

  /** Highest catalog index {@code format} this registry understands. */
  public static final int CATALOG_FORMAT = 1;

  private static final Logger LOG = LoggerFactory.getLogger(EventRegistry.class);

  private final ClassLoader loader;
  private final ObjectMapper mapper = new ObjectMapper();
  private final Object writeLock = new Object();
  // Replaced whole under writeLock, so a reader never sees half a registration.
  private volatile State state = new State(Map.of(), Map.of());
  private final Map<EventDefinition, JsonNode> schemas = new ConcurrentHashMap<>();
  private final Map<String, JsonNode> envelopeSchemas = new ConcurrentHashMap<>();
  // Event type -> from version -> step; each map replaced whole under the write lock.
  private final Map<String, Map<Integer, UpcastStep>> upcasters = new ConcurrentHashMap<>();
  private volatile @Nullable String envelopeSchemaLocation;
  private final Map<String, String> idBases = new ConcurrentHashMap<>();

  /** The event types and the reverse index, as of one registration. */
  private record State(
      Map<String, EventDefinition> byType, Map<Class<?>, List<EventDefinition>> byClass) {}

  private EventRegistry(ClassLoader loader) {
    this.loader = loader;
  }

  /**
   * Returns an empty registry that loads schema resources with this class's class loader.
   *
   * @return a registry with no events
   */
  public static EventRegistry empty() {
    return new EventRegistry(EventRegistry.class.getClassLoader());
  }

  /**
   * Returns an empty registry that loads schema resources with a given class loader.
   *
   * @param loader the class loader for schema resources of {@link
   *     EventDefinition.Builder#schemaResource(String) registered} events
   * @return a registry with no events
   */
  public static EventRegistry empty(ClassLoader loader) {
    return new EventRegistry(Objects.requireNonNull(loader, "loader"));
  }

  /**
   * Returns a registry filled from the catalog indexes visible to the thread's context class loader
   * (or, without one, to this class's).
   *
   * @return the registry; empty when no catalog is on the classpath
   * @throws BloodbankException if an index is malformed, naming it and the entry
   */
  public static EventRegistry fromClasspath() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    return fromClasspath(cl != null ? cl : EventRegistry.class.getClassLoader());
  }

  /**
   * Returns a registry filled from the catalog indexes visible to a class loader. Indexes are read
   * in the loader's order; when two declare the same event type, the later one wins and a warning
   * is logged.
   *
   * @param loader the class loader for indexes, schemas and payload classes
   * @return the registry; empty when no catalog is visible
   * @throws BloodbankException if an index is malformed, naming it and the entry
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
    // A shaded jar may append several indexes into one resource: read every document in it.
    List<JsonNode> docs = new ArrayList<>();
    try (InputStream in = url.openStream();
        MappingIterator<JsonNode> it =
            mapper
                .readerFor(JsonNode.class)
                .with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .readValues(in)) {
      while (it.hasNextValue()) {
        docs.add(it.nextValue());
      }
    } catch (IOException | RuntimeException e) {
      throw new BloodbankException("cannot read catalog index " + url + ": " + e.getMessage(), e);
    }
    for (JsonNode root : docs) {
      loadIndex(url, root);
    }
  }

  private void loadIndex(URL url, JsonNode root) {
    if (!root.isObject()) {
      throw new BloodbankException("catalog index " + url + " is not a JSON object");
    }
    int format = root.path("format").asInt(0);
    if (format < 1) {
      throw new BloodbankException("catalog index " + url + " has no 'format' number");
    }
    if (format > CATALOG_FORMAT) {
      LOG.warn(
          "catalog index {} has format {}, newer than {}; reading the fields this version knows",
          url,
          format,
          CATALOG_FORMAT);
    }
    JsonNode idBase = root.path("schema_id_base");
    JsonNode resourceBase = root.path("resource_base");
    if (idBase.isTextual() && resourceBase.isTextual()) {
      idBases.put(idBase.textValue(), resourceBase.textValue());
    }
    JsonNode envelope = root.path("envelope_schema");
    if (envelope.isTextual()) {
      envelopeSchemaLocation = EventDefinition.CLASSPATH_PREFIX + envelope.textValue();
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
      Class<?> cls = className == null ? null : loadClass(className, type);
      EventDefinition def;
      try {
        def =
            new EventDefinition(
                type,
                e.path("domain").isTextual()
                    ? e.get("domain").asText()
                    : EventDefinition.defaultDomain(type),
                EventDefinition.CLASSPATH_PREFIX + schema,
                null,
                className,
                cls,
                e.path("command").asBoolean(false),
                e.path("title").asText(type));
      } catch (IllegalArgumentException ex) {
        throw new BloodbankException("catalog index entry " + at + ": " + ex.getMessage(), ex);
      }
      EventDefinition before = find(type).orElse(null);
      if (before != null && !before.equals(def)) {
        LOG.warn("catalog index entry {} replaces the earlier definition of {}", at, type);
      }
      register(def);
    }
  }

  private @Nullable Class<?> loadClass(String className, String type) {
    try {
      return Class.forName(className, false, loader);
    } catch (ClassNotFoundException | LinkageError ex) {
      LOG.warn(
          "payload class {} of {} is not loadable ({}); the event stays untyped",
          className,
          type,
          ex.toString());
      return null;
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
   * Adds an event definition, or replaces the one of the same event type.
   *
   * @param definition the definition
   * @return this registry
   */
  public EventRegistry register(EventDefinition definition) {
    Objects.requireNonNull(definition, "definition");
    synchronized (writeLock) {
      State s = state;
      Map<String, EventDefinition> byType = new HashMap<>(s.byType());
      EventDefinition old = byType.put(definition.eventType(), definition);
      Map<Class<?>, List<EventDefinition>> byClass = new HashMap<>(s.byClass());
      if (old != null && old.payloadClass() != null) {
        List<EventDefinition> l = new ArrayList<>(byClass.get(old.payloadClass()));
        l.remove(old);
        if (l.isEmpty()) {
          byClass.remove(old.payloadClass());
        } else {
          byClass.put(old.payloadClass(), List.copyOf(l));
        }
      }
      Class<?> cls = definition.payloadClass();
      if (cls != null) {
        List<EventDefinition> l = new ArrayList<>(byClass.getOrDefault(cls, List.of()));
        l.add(definition);
        byClass.put(cls, List.copyOf(l));
      }
      state = new State(Map.copyOf(byType), Map.copyOf(byClass));
      if (old != null) {
        schemas.remove(old);
      }
    }
    return this;
  }

  /**
   * Returns the version of an event type's current schema: its {@code x-bloodbank.version}, 1 when
   * it has none.
   *
   * @param eventType the routing key
   * @return the version, at least 1
   * @throws UnknownEventTypeException if the type is unknown
   * @throws BloodbankException if the schema resource is missing or malformed, naming it
   * @since 0.2.0
   */
  public int schemaVersion(String eventType) {
    JsonNode v = schema(eventType).path("x-bloodbank").path("version");
    return v.canConvertToInt() && v.asInt() >= 1 ? v.asInt() : 1;
  }

  /**
   * Returns a released version of an event type's schema from the class path ({@value
   * #HISTORY_RESOURCE_PREFIX}{@code <event type>/v<N>.schema.json}, which {@code bloodbank-schemas}
   * ships for its catalog).
   *
   * @param eventType the routing key
   * @param version the version
   * @return the schema, or empty when no such resource is on the class path
   * @throws BloodbankException if the resource is malformed, naming it
   * @since 0.2.0
   */
  public Optional<JsonNode> historySchema(String eventType, int version) {
    Objects.requireNonNull(eventType, "eventType");
    String resource = HISTORY_RESOURCE_PREFIX + eventType + "/v" + version + ".schema.json";
    if (loader.getResource(resource) == null) {
      return Optional.empty();
    }
    return Optional.of(loadSchema(EventDefinition.CLASSPATH_PREFIX + resource));
  }

  /**
   * Registers an upcaster from a released version of an event type's schema, found with {@link
   * #historySchema(String, int)}, to a later one. Subscribers and replays of this registry's buses
   * then hand their handlers events of the older version in the current shape: a received payload
   * that the current schema rejects and the older version's schema accepts goes through the
   * upcasters from that version up to {@link #schemaVersion(String)}, and is then validated and
   * mapped as usual. A payload the current schema accepts is never upcast.
   *
   * @param eventType a registered event type
   * @param fromVersion the version the upcaster reads, at least 1
   * @param toVersion the version it writes, above {@code fromVersion} and at most the current
   * @param upcaster the function
   * @return this registry
   * @throws UnknownEventTypeException if the type is not registered
   * @throws IllegalArgumentException when the versions are out of range, naming them
   * @throws IllegalStateException when an upcaster from that version is registered already
   * @throws BloodbankException when the class path has no schema of {@code fromVersion}
   * @since 0.2.0
   */
  public EventRegistry upcaster(
      String eventType, int fromVersion, int toVersion, Upcaster upcaster) {
    require(eventType);
    JsonNode schema =
        historySchema(eventType, fromVersion)
            .orElseThrow(
                () ->
                    new BloodbankException(
                        "no schema of "
                            + eventType
                            + " version "
                            + fromVersion
                            + " on the class path ("
                            + HISTORY_RESOURCE_PREFIX
                            + eventType
                            + "/v"
                            + fromVersion
                            + ".schema.json); give it to upcaster(type, from, to, schema, fn)"));
    return upcaster(eventType, fromVersion, toVersion, schema, upcaster);
  }

  /**
   * Registers an upcaster as {@link #upcaster(String, int, int, Upcaster)} does, with the older
   * version's schema given in code.
   *
   * @param eventType a registered event type
   * @param fromVersion the version the upcaster reads, at least 1
   * @param toVersion the version it writes, above {@code fromVersion} and at most the current
   * @param fromSchema the JSON Schema of {@code fromVersion}'s payload
   * @param upcaster the function
   * @return this registry
   * @throws UnknownEventTypeException if the type is not registered
   * @throws IllegalArgumentException when the versions are out of range, naming them
   * @throws IllegalStateException when an upcaster from that version is registered already
   * @since 0.2.0
   */
  public EventRegistry upcaster(
      String eventType, int fromVersion, int toVersion, JsonNode fromSchema, Upcaster upcaster) {
    require(eventType);
    int current = schemaVersion(eventType);
    UpcastStep step = new UpcastStep(eventType, fromVersion, toVersion, fromSchema, upcaster);
    if (toVersion > current) {
      throw new IllegalArgumentException(
          "an upcaster of "
              + eventType
              + " to version "
              + toVersion
              + " goes beyond its current schema, version "
              + current
              + " (x-bloodbank.version)");
    }
    synchronized (writeLock) {
      Map<Integer, UpcastStep> steps = new HashMap<>(upcasters.getOrDefault(eventType, Map.of()));
      if (steps.containsKey(fromVersion)) {
        throw new IllegalStateException(
            "an upcaster of " + eventType + " from version " + fromVersion + " is registered");
      }
      steps.put(fromVersion, step);
      upcasters.put(eventType, Map.copyOf(steps));
    }
    return this;
  }

  /**
   * Returns the upcasters registered for an event type, by the version they read.
   *
   * @param eventType the routing key
   * @return the steps, empty when none
   * @since 0.2.0
   */
  public Map<Integer, UpcastStep> upcasters(String eventType) {
    return upcasters.getOrDefault(Objects.requireNonNull(eventType, "eventType"), Map.of());
  }

  /**
   * Returns whether any upcaster is registered, for a receiving path that skips the work when none
   * is.
   *
   * @return true once one is registered
   * @since 0.2.0
   */
  public boolean hasUpcasters() {
    return !upcasters.isEmpty();
  }

  /**
   * Binds an event type to another payload class, keeping its schema and everything else: e.g. a
   * command class that extends the generated payload class and implements {@code
   * dev.bloodbank.command.Invokable}.
   *
   * @param eventType a registered event type
   * @param payloadClass the class received payloads are mapped to from now on
   * @return the new definition
   * @throws UnknownEventTypeException if the type is not registered
   */
  public EventDefinition bind(String eventType, Class<?> payloadClass) {
    Objects.requireNonNull(payloadClass, "payloadClass");
    synchronized (writeLock) {
      EventDefinition bound = require(eventType).withPayloadClass(payloadClass);
      register(bound);
      return bound;
    }
  }

  /**
   * Looks up an event type.
   *
   * @param eventType the routing key
   * @return the definition, or empty when unknown
   */
  public Optional<EventDefinition> find(String eventType) {
    return Optional.ofNullable(state.byType().get(Objects.requireNonNull(eventType, "eventType")));
  }

  /**
   * Looks up an event type that must exist.
   *
   * @param eventType the routing key
   * @return the definition
   * @throws UnknownEventTypeException naming the type and similar known ones
   */
  public EventDefinition require(String eventType) {
    State s = state;
    EventDefinition d = s.byType().get(Objects.requireNonNull(eventType, "eventType"));
    if (d == null) {
      throw UnknownEventTypeException.newUnknownType(eventType, similar(s, eventType));
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
    return state.byType().containsKey(eventType);
  }

  /**
   * Looks up the event whose payload class this is, or, failing that, the nearest superclass's. A
   * class bound to more than one event type has no single event and gives empty; {@link
   * #eventTypeOf(Class)} names the candidates.
   *
   * @param payloadClass the class
   * @return the definition, or empty
   */
  public Optional<EventDefinition> findByPayloadClass(Class<?> payloadClass) {
    List<EventDefinition> l = candidates(state, payloadClass);
    return l.size() == 1 ? Optional.of(l.get(0)) : Optional.empty();
  }

  /**
   * Returns the event type of a payload class (or of its nearest registered superclass).
   *
   * @param payloadClass the class
   * @return the routing key
   * @throws UnknownEventTypeException if no event, or more than one, has this payload class; the
   *     message names the class and the candidates
   */
  public String eventTypeOf(Class<?> payloadClass) {
    List<EventDefinition> l = candidates(state, payloadClass);
    if (l.size() != 1) {
      throw UnknownEventTypeException.newUnknownClass(
          payloadClass, l.stream().map(EventDefinition::eventType).sorted().toList());
    }
    return l.get(0).eventType();
  }

  private static List<EventDefinition> candidates(State s, Class<?> payloadClass) {
    Objects.requireNonNull(payloadClass, "payloadClass");
    for (Class<?> c = payloadClass; c != null && c != Object.class; c = c.getSuperclass()) {
      List<EventDefinition> l = s.byClass().get(c);
      if (l != null) {
        return l;
      }
    }
    return List.of();
  }

  /**
   * Returns every definition, sorted by event type.
   *
   * @return an immutable snapshot
   */
  public List<EventDefinition> all() {
    return new TreeMap<>(state.byType()).values().stream().toList();
  }

  /**
   * Returns the commands, sorted by event type.
   *
   * @return an immutable snapshot
   */
  public List<EventDefinition> commands() {
    return all().stream().filter(EventDefinition::command).toList();
  }

  /**
   * Returns every domain: the declared domain of each event and each domain it is nested in ({@code
   * agent} and {@code agent.thread} for an event of domain {@code agent.thread}).
   *
   * @return an immutable sorted snapshot
   */
  public Set<String> domains() {
    Set<String> out = new TreeSet<>();
    for (EventDefinition d : state.byType().values()) {
      String domain = d.domain();
      out.add(domain);
      for (int dot = domain.indexOf('.'); dot > 0; dot = domain.indexOf('.', dot + 1)) {
        out.add(domain.substring(0, dot));
      }
    }
    return Collections.unmodifiableSet(out);
  }

  /**
   * Returns the events of a domain and of the domains nested below it.
   *
   * @param domain e.g. {@code fireflies}, {@code agent} or {@code agent.thread}
   * @return an immutable snapshot sorted by event type; empty for an unknown domain
   */
  public List<EventDefinition> events(String domain) {
    Objects.requireNonNull(domain, "domain");
    return all().stream().filter(d -> d.inDomain(domain)).toList();
  }

  /**
   * Returns the JSON Schema of an event's payload; a classpath schema is read once and cached.
   *
   * @param eventType the routing key
   * @return a copy of the schema, free to modify
   * @throws UnknownEventTypeException if the type is unknown
   * @throws BloodbankException if the schema resource is missing or malformed, naming it
   */
  public JsonNode schema(String eventType) {
    EventDefinition d = require(eventType);
    JsonNode inline = d.inlineSchema();
    if (inline != null) {
      return inline;
    }
    return schemas.computeIfAbsent(d, k -> loadSchema(k.schemaLocation())).deepCopy();
  }

  /**
   * Returns the URL of an event's schema resource, for tools that want the file itself.
   *
   * @param eventType the routing key
   * @return the resource URL, or empty for a schema given in code or a resource that is missing
   * @throws UnknownEventTypeException if the type is unknown
   */
  public Optional<URL> schemaUrl(String eventType) {
    return require(eventType).schemaResource().map(loader::getResource);
  }

  /**
   * Returns the classpath resource a catalog maps a schema {@code $id} to: an index that declares
   * {@code schema_id_base} and {@code resource_base} maps every id under that base to the resource
   * with the same path under the resource base. This is how {@code $ref}s between catalog schemas
   * resolve without the network.
   *
   * @param schemaId an absolute schema id, e.g. {@code
   *     https://schemas.bloodbank.dev/common/source.v1.schema.json}
   * @return the resource URL, or empty when no catalog maps the id or the resource is missing
   */
  public Optional<URL> resolveSchemaId(String schemaId) {
    Objects.requireNonNull(schemaId, "schemaId");
    for (Map.Entry<String, String> e : idBases.entrySet()) {
      if (schemaId.startsWith(e.getKey())) {
        String path = e.getValue() + schemaId.substring(e.getKey().length());
        int fragment = path.indexOf('#');
        URL url = loader.getResource(fragment < 0 ? path : path.substring(0, fragment));
        if (url != null) {
          return Optional.of(url);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Returns the envelope schema, when a catalog on the classpath provides one ({@code
   * envelope_schema} in its index).
   *
   * @return a copy of the schema, or empty
   * @throws BloodbankException if the resource is missing or malformed, naming it
   */
  public Optional<JsonNode> envelopeSchema() {
    String location = envelopeSchemaLocation;
    if (location == null) {
      return Optional.empty();
    }
    return Optional.of(envelopeSchemas.computeIfAbsent(location, this::loadSchema).deepCopy());
  }

  /**
   * Returns where the envelope schema is, when a catalog on the classpath provides one.
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
    String path = location.substring(EventDefinition.CLASSPATH_PREFIX.length());
    try (InputStream in = loader.getResourceAsStream(path)) {
      if (in == null) {
        throw new BloodbankException("schema resource " + location + " is not on the classpath");
      }
      return mapper.readTree(in);
    } catch (IOException e) {
      throw new BloodbankException("cannot read schema " + location + ": " + e.getMessage(), e);
    }
  }

  private static List<String> similar(State s, String eventType) {
    Map<Integer, List<String>> byDistance = new TreeMap<>();
    int limit = Math.max(2, eventType.length() / 4);
    for (String known : s.byType().keySet()) {
      int d = distance(eventType, known, limit);
      if (d <= limit) {
        byDistance.computeIfAbsent(d, k -> new ArrayList<>()).add(known);
      }
    }
    List<String> out = new ArrayList<>();
    for (List<String> l : byDistance.values()) {
      Collections.sort(l);
      for (String k : l) {
        if (out.size() < 3) {
          out.add(k);
        }
      }
    }
    return out;
  }

  /** Levenshtein distance, or {@code limit + 1} as soon as it must exceed the limit. */
  private static int distance(String a, String b, int limit) {
    if (Math.abs(a.length() - b.length()) > limit) {
      return limit + 1;
    }
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      int rowMin = cur[0];
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
        rowMin = Math.min(rowMin, cur[j]);
      }
      if (rowMin > limit) {
        return limit + 1;
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
