package dev.bloodbank.evolution;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.dialect.Dialect;
import com.networknt.schema.dialect.Dialects;
import com.networknt.schema.keyword.NonValidationKeyword;
import com.networknt.schema.path.PathType;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.evolution.Incompatibility.Direction;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Shared fixtures of the evolution tests: the change cases of {@code evolution/cases.json}, a
 * checker that resolves their external documents, and the instances generated for each case and
 * direction, judged by networknt (configured as {@code EventValidator} configures it).
 */
final class EvolutionCases {
  static final ObjectMapper MAPPER = new ObjectMapper();

  private static final JsonNode FILE = read("/evolution/cases.json");

  /** Documents that {@code $ref}s of the cases point at, by URI. */
  static final Map<String, JsonNode> DOCUMENTS = new LinkedHashMap<>();

  static {
    FILE.get("documents").fields().forEachRemaining(e -> DOCUMENTS.put(e.getKey(), e.getValue()));
  }

  static final SchemaCompatibility CHECKER = checker(UndeclaredProperties.ANY);

  /** The checker with {@link UndeclaredProperties#ABSENT}. */
  static final SchemaCompatibility CHECKER_ABSENT = checker(UndeclaredProperties.ABSENT);

  private static SchemaCompatibility checker(UndeclaredProperties mode) {
    return SchemaCompatibility.builder()
        .undeclaredProperties(mode)
        .resolver(
            uri -> {
              JsonNode d = DOCUMENTS.get(uri.toString());
              if (d == null) {
                throw new BloodbankException("no test document " + uri);
              }
              return d;
            })
        .build();
  }

  /**
   * One change case.
   *
   * @param backward expected {@code rule pointer} strings when BACKWARD is checked; empty when
   *     compatible
   * @param forward the same for FORWARD
   * @param absentBackward expected BACKWARD under {@link UndeclaredProperties#ABSENT}: the case's
   *     {@code absent.backward}, or {@code backward} when the case has no {@code absent} block
   * @param absentForward the same for FORWARD
   */
  record Case(
      int index,
      String name,
      JsonNode old,
      JsonNode now,
      Set<String> backward,
      Set<String> forward,
      Set<String> absentBackward,
      Set<String> absentForward) {
    JsonNode writer(Direction d) {
      return d == Direction.BACKWARD ? old : now;
    }

    JsonNode reader(Direction d) {
      return d == Direction.BACKWARD ? now : old;
    }

    Set<String> expected(Direction d) {
      return d == Direction.BACKWARD ? backward : forward;
    }

    Set<String> expected(Direction d, UndeclaredProperties mode) {
      if (mode == UndeclaredProperties.ANY) {
        return expected(d);
      }
      return d == Direction.BACKWARD ? absentBackward : absentForward;
    }

    String location(JsonNode schema) {
      return schema.path("$id").isTextual()
          ? schema.get("$id").textValue()
          : "urn:bloodbank:evolution-case:" + index + (schema == old ? ":old" : ":new");
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** A generated instance valid under the writer's schema, and whether the reader accepts it. */
  record Sample(Case c, Direction direction, JsonNode instance, boolean readerAccepts) {}

  private EvolutionCases() {}

  static List<Case> cases() {
    List<Case> out = new ArrayList<>();
    int i = 0;
    for (JsonNode c : FILE.get("cases")) {
      JsonNode absent = c.has("absent") ? c.get("absent") : c;
      out.add(
          new Case(
              i++,
              c.get("name").textValue(),
              c.get("old"),
              c.get("new"),
              strings(c.get("backward")),
              strings(c.get("forward")),
              strings(absent.get("backward")),
              strings(absent.get("forward"))));
    }
    return out;
  }

  /** The outcome of the checker as {@code rule pointer} strings, as the table writes them. */
  static Set<String> found(CompatibilityReport report) {
    Set<String> out = new TreeSet<>();
    for (Incompatibility i : report.incompatibilities()) {
      out.add(i.rule() + " " + (i.pointer().isEmpty() ? "/" : i.pointer()));
    }
    return out;
  }

  /** Instances valid (by networknt) under the writer's schema of a direction. */
  static List<Sample> samples(Case c, Direction d) {
    return samples(c, d, UndeclaredProperties.ANY);
  }

  /**
   * Instances valid under the writer's schema of a direction that a writer may send under the
   * assumption: with {@link UndeclaredProperties#ABSENT}, no undeclared names in its records.
   */
  static List<Sample> samples(Case c, Direction d, UndeclaredProperties mode) {
    SchemaRegistry registry = registry();
    JsonNode writerSchema = c.writer(d);
    JsonNode readerSchema = c.reader(d);
    Schema writer = registry.getSchema(SchemaLocation.of(c.location(writerSchema)), writerSchema);
    Schema reader = registry.getSchema(SchemaLocation.of(c.location(readerSchema)), readerSchema);
    Set<String> hints = new TreeSet<>();
    propertyNames(readerSchema, hints);
    DOCUMENTS.values().forEach(doc -> propertyNames(doc, hints));
    List<Sample> out = new ArrayList<>();
    for (JsonNode instance : new InstanceGenerator(DOCUMENTS, hints, mode).generate(writerSchema)) {
      if (writer.validate(instance).isEmpty()) {
        out.add(new Sample(c, d, instance, reader.validate(instance).isEmpty()));
      }
    }
    return out;
  }

  /** A networknt registry as EventValidator builds it: format asserted, catalog keywords known. */
  static SchemaRegistry registry() {
    SchemaRegistryConfig config =
        SchemaRegistryConfig.builder()
            .pathType(PathType.JSON_POINTER)
            .formatAssertionsEnabled(true)
            .build();
    Dialect dialect =
        Dialect.builder(Dialects.getDraft202012())
            .keyword(new NonValidationKeyword("x-bloodbank"))
            .keyword(new NonValidationKeyword("javaType"))
            .keyword(new NonValidationKeyword("existingJavaType"))
            .build();
    return SchemaRegistry.withDefaultDialect(
        dialect,
        sb ->
            sb.schemaRegistryConfig(config)
                .schemaLoader(
                    l ->
                        l.fetchRemoteResources(false)
                            .resourceLoaders(
                                r ->
                                    r.add(
                                        iri -> {
                                          JsonNode doc = DOCUMENTS.get(iri.toString());
                                          if (doc == null) {
                                            return null;
                                          }
                                          byte[] bytes = doc.toString().getBytes();
                                          return () -> new ByteArrayInputStream(bytes);
                                        }))));
  }

  static JsonNode file() {
    return FILE;
  }

  private static void propertyNames(JsonNode n, Set<String> out) {
    if (n.isObject()) {
      if (n.path("properties").isObject()) {
        n.get("properties").fieldNames().forEachRemaining(out::add);
      }
      n.elements().forEachRemaining(v -> propertyNames(v, out));
    } else if (n.isArray()) {
      n.forEach(v -> propertyNames(v, out));
    }
  }

  private static Set<String> strings(JsonNode array) {
    Set<String> out = new TreeSet<>();
    Iterator<JsonNode> it = array.elements();
    it.forEachRemaining(v -> out.add(v.textValue()));
    return out;
  }

  private static JsonNode read(String resource) {
    try (InputStream in = EvolutionCases.class.getResourceAsStream(resource)) {
      return MAPPER.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
