package dev.bloodbank.evolution;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.validation.EventValidator;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Decides whether a candidate version of a JSON Schema (draft 2020-12) is compatible with earlier
 * versions at a {@link CompatibilityLevel}, and explains each incompatibility.
 *
 * <p>The question asked per direction is whether every instance the writer's schema accepts is
 * accepted by the reader's, answered structurally: type sets, {@code enum} and {@code const},
 * numeric, length, item and property-count bounds, {@code format} (asserted, as {@link
 * EventValidator} does), {@code required}, {@code properties} with open or closed {@code
 * additionalProperties}, {@code items} and {@code prefixItems}, {@code uniqueItems}, through {@code
 * $ref}s inside the document and to other documents (cycles are followed once). Annotations ({@code
 * description}, {@code title}, {@code examples}, {@code default}, {@code $comment}, {@code
 * javaType}, {@code x-bloodbank}, ...) are ignored. Subschemas that are equal after resolving
 * {@code $ref}s are compatible whatever they contain; a change to anything else ({@code anyOf},
 * {@code if}, {@code pattern}, {@code patternProperties}, ...) is reported as {@code
 * unsupported-change}, so "compatible" is always sound. The rule table is in {@code
 * docs/schema-evolution.md}.
 *
 * <pre>{@code
 * SchemaCompatibility compatibility = SchemaCompatibility.create();
 * CompatibilityReport report =
 *     compatibility.check(previousSchema, candidateSchema, CompatibilityLevel.BACKWARD);
 * if (!report.isCompatible()) {
 *   throw new IllegalStateException(report.describe());
 * }
 * }</pre>
 *
 * <p>Immutable and thread-safe; checks may run concurrently.
 *
 * @since 0.2.0
 */
public final class SchemaCompatibility {
  /**
   * The base URI of a schema without {@code $id}, against which its relative {@code $ref}s resolve:
   * the catalog's id prefix.
   */
  public static final URI DEFAULT_BASE_URI = URI.create(EventValidator.SCHEMA_ID_PREFIX);

  /** Where the {@code bloodbank-schemas} catalog is on the class path. */
  public static final String CATALOG_RESOURCE_PREFIX = "dev/bloodbank/schemas/";

  private final SchemaResolver resolver;
  private final URI baseUri;
  private final UndeclaredProperties undeclaredProperties;

  private SchemaCompatibility(Builder b) {
    this.resolver = b.resolver;
    this.baseUri = b.baseUri;
    this.undeclaredProperties = b.undeclaredProperties;
  }

  /**
   * Returns a checker that resolves {@code $ref}s to other documents in the catalog on the class
   * path of this class ({@link #CATALOG_RESOURCE_PREFIX}), with {@link #DEFAULT_BASE_URI}.
   *
   * @return the checker
   */
  public static SchemaCompatibility create() {
    return builder().build();
  }

  /**
   * Returns a builder.
   *
   * @return a new builder with the defaults of {@link #create()}
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the resolver of {@code $ref}s to other documents.
   *
   * @return the resolver
   */
  public SchemaResolver resolver() {
    return resolver;
  }

  /**
   * Returns the base URI of schemas without {@code $id}.
   *
   * @return the base URI
   */
  public URI baseUri() {
    return baseUri;
  }

  /**
   * Returns what checks assume about properties that writers send beyond those an open object
   * declares.
   *
   * @return the assumption; {@link UndeclaredProperties#ANY} unless the builder set another
   */
  public UndeclaredProperties undeclaredProperties() {
    return undeclaredProperties;
  }

  /**
   * Checks a candidate schema against the previous version.
   *
   * @param previous the schema in use
   * @param candidate the new version
   * @param level the level; the transitive forms mean the same as the plain ones here
   * @return the report
   * @throws dev.bloodbank.BloodbankException when a {@code $ref} cannot be resolved, naming it
   */
  public CompatibilityReport check(
      JsonNode previous, JsonNode candidate, CompatibilityLevel level) {
    Objects.requireNonNull(previous, "previous");
    return check(List.of(previous), candidate, level);
  }

  /**
   * Checks a candidate schema against a history of earlier versions: all of them for a {@code
   * _TRANSITIVE} level, only the latest (the last) for the others.
   *
   * @param history the earlier versions, oldest first; not empty
   * @param candidate the new version
   * @param level the level
   * @return the report; each incompatibility names the version it is against ({@link
   *     Incompatibility#previousIndex()})
   * @throws IllegalArgumentException when the history is empty
   * @throws dev.bloodbank.BloodbankException when a {@code $ref} cannot be resolved, naming it
   */
  public CompatibilityReport check(
      List<JsonNode> history, JsonNode candidate, CompatibilityLevel level) {
    Objects.requireNonNull(history, "history");
    Objects.requireNonNull(candidate, "candidate");
    Objects.requireNonNull(level, "level");
    if (history.isEmpty()) {
      throw new IllegalArgumentException("history is empty: give at least the previous version");
    }
    List<Incompatibility> out = new ArrayList<>();
    if (level != CompatibilityLevel.NONE) {
      int first = level.isTransitive() ? 0 : history.size() - 1;
      for (int i = first; i < history.size(); i++) {
        JsonNode previous = Objects.requireNonNull(history.get(i), "history element");
        if (level.checksBackward()) {
          new Checker(
                  resolver,
                  baseUri,
                  undeclaredProperties,
                  Incompatibility.Direction.BACKWARD,
                  i,
                  out)
              .run(previous, candidate);
        }
        if (level.checksForward()) {
          new Checker(
                  resolver,
                  baseUri,
                  undeclaredProperties,
                  Incompatibility.Direction.FORWARD,
                  i,
                  out)
              .run(previous, candidate);
        }
      }
    }
    return new CompatibilityReport(level, out, history.size());
  }

  /** Builds a {@link SchemaCompatibility}; not thread-safe. */
  public static final class Builder {
    private SchemaResolver resolver =
        SchemaResolver.classpath(
            SchemaCompatibility.class.getClassLoader(), CATALOG_RESOURCE_PREFIX, DEFAULT_BASE_URI);
    private URI baseUri = DEFAULT_BASE_URI;
    private UndeclaredProperties undeclaredProperties = UndeclaredProperties.ANY;

    private Builder() {}

    /**
     * Sets the resolver of {@code $ref}s to other documents. Default: the catalog on the class
     * path, {@link SchemaResolver#classpath} of {@link #CATALOG_RESOURCE_PREFIX} under {@link
     * #DEFAULT_BASE_URI}.
     *
     * @param resolver the resolver
     * @return this builder
     */
    public Builder resolver(SchemaResolver resolver) {
      this.resolver = Objects.requireNonNull(resolver, "resolver");
      return this;
    }

    /**
     * Sets the base URI of schemas without {@code $id}. Default {@link #DEFAULT_BASE_URI}.
     *
     * @param baseUri an absolute URI
     * @return this builder
     * @throws IllegalArgumentException when the URI is not absolute
     */
    public Builder baseUri(URI baseUri) {
      Objects.requireNonNull(baseUri, "baseUri");
      if (!baseUri.isAbsolute() || baseUri.isOpaque()) {
        throw new IllegalArgumentException(
            "baseUri '" + baseUri + "' is not an absolute hierarchical URI");
      }
      this.baseUri = baseUri;
      return this;
    }

    /**
     * Sets what checks assume about properties that writers send beyond those an open object
     * declares. Default {@link UndeclaredProperties#ANY}: any name with any value, so adding a
     * constrained optional property to an open object breaks BACKWARD. {@link
     * UndeclaredProperties#ABSENT} suits producers that serialize classes or models generated from
     * the schema, as Bloodbank's do.
     *
     * @param undeclaredProperties the assumption
     * @return this builder
     * @since 0.2.0
     */
    public Builder undeclaredProperties(UndeclaredProperties undeclaredProperties) {
      this.undeclaredProperties =
          Objects.requireNonNull(undeclaredProperties, "undeclaredProperties");
      return this;
    }

    /**
     * Builds the checker.
     *
     * @return the checker
     */
    public SchemaCompatibility build() {
      return new SchemaCompatibility(this);
    }
  }
}
