package dev.bloodbank.evolution;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.BloodbankException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Loads the schema documents that {@code $ref}s to other documents point at, by absolute URI
 * (without fragment). The two schemas compared are given directly; a resolver serves only what they
 * refer to, such as {@code "$ref": "source.v1.schema.json"} resolved against the referring schema's
 * {@code $id}.
 *
 * <p>Implementations must be thread-safe; the checker calls a resolver at most once per URI and
 * check.
 *
 * @since 0.2.0
 */
@FunctionalInterface
public interface SchemaResolver {

  /**
   * Returns the document at a URI.
   *
   * @param uri the absolute URI of the document, without fragment
   * @return the document
   * @throws BloodbankException when there is no such document or it cannot be read, naming the URI
   */
  JsonNode resolve(URI uri);

  /**
   * Returns a resolver that resolves nothing: any reference to another document fails.
   *
   * @return the resolver
   */
  static SchemaResolver none() {
    return uri -> {
      throw new BloodbankException("no schema resolver for the $ref to " + uri);
    };
  }

  /**
   * Returns a resolver that maps URIs under an id prefix to files under a directory: with prefix
   * {@code https://schemas.bloodbank.dev/} and directory {@code src/main/resources/dev/bloodbank/
   * schemas}, {@code https://schemas.bloodbank.dev/common/source.v1.schema.json} is read from
   * {@code common/source.v1.schema.json} there. {@code file:} URIs inside the directory are read as
   * they are.
   *
   * @param directory the directory of the catalog
   * @param idPrefix the {@code $id} prefix of the catalog's schemas, ending with {@code /}
   * @return the resolver
   */
  static SchemaResolver directory(Path directory, URI idPrefix) {
    Path root = directory.toAbsolutePath().normalize();
    String prefix = idPrefix.toString();
    ObjectMapper mapper = new ObjectMapper();
    return uri -> {
      String u = uri.toString();
      Path file = null;
      if (u.startsWith(prefix)) {
        file = root.resolve(u.substring(prefix.length())).normalize();
      } else if ("file".equals(uri.getScheme())) {
        file = Path.of(uri).normalize();
      }
      if (file == null || !file.startsWith(root)) {
        throw new BloodbankException(
            "$ref to " + uri + " is outside " + prefix + " and the directory " + root);
      }
      try {
        return mapper.readTree(Files.readAllBytes(file));
      } catch (IOException e) {
        throw new BloodbankException(
            "cannot read the schema " + file + " of the $ref to " + uri, e);
      }
    };
  }

  /**
   * Returns a resolver that maps URIs under an id prefix to class path resources under a resource
   * prefix: {@code classpath(loader, "dev/bloodbank/schemas/",
   * URI.create("https://schemas.bloodbank.dev/"))} serves the catalog of {@code bloodbank-schemas}.
   *
   * @param loader the class loader to read resources from
   * @param resourcePrefix the resource path of the catalog root, ending with {@code /}
   * @param idPrefix the {@code $id} prefix of the catalog's schemas, ending with {@code /}
   * @return the resolver
   */
  static SchemaResolver classpath(ClassLoader loader, String resourcePrefix, URI idPrefix) {
    Objects.requireNonNull(loader, "loader");
    Objects.requireNonNull(resourcePrefix, "resourcePrefix");
    String prefix = idPrefix.toString();
    ObjectMapper mapper = new ObjectMapper();
    return uri -> {
      String u = uri.toString();
      if (!u.startsWith(prefix) || u.substring(prefix.length()).contains("..")) {
        throw new BloodbankException("$ref to " + uri + " is outside " + prefix);
      }
      String resource = resourcePrefix + u.substring(prefix.length());
      try (InputStream in = loader.getResourceAsStream(resource)) {
        if (in == null) {
          throw new BloodbankException(
              "no class path resource " + resource + " for the $ref to " + uri);
        }
        return mapper.readTree(in);
      } catch (IOException e) {
        throw new BloodbankException("cannot read " + resource + " for the $ref to " + uri, e);
      }
    };
  }
}
