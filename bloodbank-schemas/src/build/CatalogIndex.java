import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Build step of bloodbank-schemas: checks the schema catalog and writes the index that {@code
 * dev.bloodbank.registry.EventRegistry} reads.
 *
 * <p>Run by exec-maven-plugin as a single-file program (not part of the jar):
 *
 * <pre>java CatalogIndex.java &lt;schemas dir&gt; &lt;resource prefix&gt; &lt;$id base&gt; &lt;output file&gt;</pre>
 *
 * <p>Every {@code *.schema.json} is checked; those outside {@code common/} are events and get an
 * index entry. The build fails, listing every problem with its file, when a file breaks a rule of
 * the catalog (see the module README): name {@code <name>.v<N>.schema.json}, Draft 2020-12, {@code
 * $id} equal to the base plus the file's path, {@code x-bloodbank.event_type} a valid routing key
 * declared once, {@code x-bloodbank.domain} the folder or nested below it, a unique {@code
 * javaType}, and every optional payload property accepting {@code null}.
 */
public final class CatalogIndex {
  static final String DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema";
  static final Pattern FILE_NAME = Pattern.compile("([a-z0-9][a-z0-9-]*)\\.v([1-9][0-9]*)\\.schema\\.json");
  static final Pattern EVENT_TYPE = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");
  static final Set<String> CATALOG_KEYS =
      Set.of("event_type", "domain", "command", "version", "compatibility");
  /** Schema evolution keys (issue #21), the only ones a common/ schema may carry. */
  static final Set<String> EVOLUTION_KEYS = Set.of("version", "compatibility");

  public static void main(String[] args) throws IOException {
    if (args.length != 4) {
      throw new IllegalArgumentException(
          "usage: java CatalogIndex.java <schemas dir> <resource prefix> <$id base> <output file>");
    }
    Path dir = Path.of(args[0]);
    String resourcePrefix = args[1].endsWith("/") ? args[1] : args[1] + "/";
    String idBase = args[2].endsWith("/") ? args[2] : args[2] + "/";
    Path out = Path.of(args[3]);
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
    }
    ObjectNode root = mapper.createObjectNode();
    root.put("format", 1);
    root.put("schema_id_base", idBase);
    root.put("resource_base", resourcePrefix);
    ArrayNode events = mapper.createArrayNode();
    Map<String, String> typeOwner = new HashMap<>();
    Map<String, String> classOwner = new HashMap<>();
    List<String> problems = new ArrayList<>();
    for (Path f : files) {
      String rel = dir.relativize(f).toString().replace('\\', '/');
      List<String> p = new ArrayList<>();
      JsonNode schema;
      try {
        schema = mapper.readTree(f.toFile());
      } catch (IOException e) {
        problems.add(rel + ": not JSON: " + e.getMessage());
        continue;
      }
      Matcher name = FILE_NAME.matcher(f.getFileName().toString());
      if (!name.matches()) {
        p.add("file name must be <name>.v<N>.schema.json, lower case");
      }
      if (!DRAFT_2020_12.equals(schema.path("$schema").asText())) {
        p.add("$schema must be " + DRAFT_2020_12);
      }
      if (!(idBase + rel).equals(schema.path("$id").asText())) {
        p.add("$id must be " + idBase + rel + " (the validator maps it to the classpath)");
      }
      int slash = rel.lastIndexOf('/');
      String folderDomain = slash < 0 ? "" : rel.substring(0, slash).replace('/', '.');
      boolean common = rel.startsWith("common/");
      JsonNode meta = schema.path("x-bloodbank");
      if (common) {
        for (Iterator<String> it = meta.fieldNames(); it.hasNext(); ) {
          String k = it.next();
          if (!EVOLUTION_KEYS.contains(k)) {
            p.add(
                "common/ schemas are shared definitions, not events: x-bloodbank may only carry "
                    + EVOLUTION_KEYS
                    + ", not '"
                    + k
                    + "'");
          }
        }
        checkEvolutionKeys(meta, p);
        report(rel, p, problems);
        if (rel.equals("common/envelope.v1.schema.json")) {
          root.put("envelope_schema", resourcePrefix + rel);
        }
        continue;
      }
      checkNullableOptionals(schema, schema, "", p);
      if (folderDomain.isEmpty()) {
        p.add("an event schema belongs in a domain folder, e.g. voice/");
      }
      for (Iterator<String> it = meta.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (!CATALOG_KEYS.contains(k)) {
          p.add("unknown x-bloodbank key '" + k + "' (known: " + CATALOG_KEYS + ")");
        }
      }
      String type = meta.path("event_type").asText("");
      if (!EVENT_TYPE.matcher(type).matches() || type.length() > 255) {
        p.add("x-bloodbank.event_type '" + type + "' is not a routing key (dot-separated words)");
      } else {
        String before = typeOwner.putIfAbsent(type, rel);
        if (before != null) {
          p.add("event type " + type + " is also declared by " + before);
        }
      }
      String domain = meta.path("domain").asText(folderDomain);
      if (!domain.equals(folderDomain) && !domain.startsWith(folderDomain + ".")) {
        p.add("x-bloodbank.domain '" + domain + "' must be '" + folderDomain + "' or below it");
      }
      if (meta.has("command") && !meta.get("command").isBoolean()) {
        p.add("x-bloodbank.command must be true or false");
      }
      checkEvolutionKeys(meta, p);
      String javaType = schema.path("javaType").asText("");
      if (javaType.isEmpty()) {
        p.add("javaType (the generated payload class) is missing");
      } else {
        String before = classOwner.putIfAbsent(javaType, rel);
        if (before != null) {
          p.add("javaType " + javaType + " is also generated by " + before);
        }
      }
      if (!schema.path("title").isTextual()) {
        p.add("title is missing");
      }
      report(rel, p, problems);
      if (p.isEmpty()) {
        ObjectNode e = events.addObject();
        e.put("event_type", type);
        e.put("domain", domain);
        e.put("command", meta.path("command").asBoolean(false));
        e.put("schema", resourcePrefix + rel);
        e.put("schema_id", idBase + rel);
        e.put("schema_version", Integer.parseInt(name.group(2)));
        e.put("payload_class", javaType);
        e.put("title", schema.path("title").asText());
      }
    }
    if (!root.has("envelope_schema")) {
      problems.add("common/envelope.v1.schema.json: missing");
    }
    if (!problems.isEmpty()) {
      System.err.println("bad schema catalog in " + dir + ":\n  " + String.join("\n  ", problems));
      System.exit(1);
    }
    root.set("events", events);
    String json = mapper.writeValueAsString(root) + "\n";
    Files.createDirectories(out.getParent());
    if (!Files.exists(out) || !Files.readString(out).equals(json)) {
      Files.writeString(out, json);
    }
    System.out.println("catalog index: " + events.size() + " events -> " + out);
  }

  /**
   * {@code version} (the released version this schema is or will be, default 1) and {@code
   * compatibility} (a level name, default BACKWARD), read by the schema history gate.
   */
  private static void checkEvolutionKeys(JsonNode meta, List<String> p) {
    JsonNode v = meta.get("version");
    if (v != null && (!v.isIntegralNumber() || v.asLong() < 1)) {
      p.add("x-bloodbank.version must be a whole number from 1, not " + v);
    }
    JsonNode c = meta.get("compatibility");
    if (c != null
        && !(c.isTextual()
            && c.textValue()
                .toUpperCase(java.util.Locale.ROOT)
                .replace('-', '_')
                .matches("NONE|(BACKWARD|FORWARD|FULL)(_TRANSITIVE)?"))) {
      p.add(
          "x-bloodbank.compatibility must name a level (NONE, BACKWARD, FORWARD, FULL, with"
              + " _TRANSITIVE), not "
              + c);
    }
  }

  private static void report(String rel, List<String> p, List<String> problems) {
    for (String s : p) {
      problems.add(rel + ": " + s);
    }
  }

  /**
   * The Python services write optional fields as null, so a property that is not required must
   * accept null: {@code "type": [..., "null"]}, or no type at all, or a $defs target that does.
   */
  private static void checkNullableOptionals(
      JsonNode root, JsonNode node, String at, List<String> p) {
    Set<String> required = new HashSet<>();
    node.path("required").forEach(r -> required.add(r.asText()));
    for (Map.Entry<String, JsonNode> e : node.path("properties").properties()) {
      String ptr = at + "/properties/" + e.getKey();
      if (!required.contains(e.getKey()) && !acceptsNull(root, e.getValue())) {
        p.add(ptr + " is optional but does not accept null (add \"null\" to its type)");
      }
      checkNullableOptionals(root, e.getValue(), ptr, p);
      checkNullableOptionals(root, e.getValue().path("items"), ptr + "/items", p);
    }
    for (Map.Entry<String, JsonNode> e : node.path("$defs").properties()) {
      checkNullableOptionals(root, e.getValue(), at + "/$defs/" + e.getKey(), p);
    }
  }

  private static boolean acceptsNull(JsonNode root, JsonNode property) {
    JsonNode ref = property.get("$ref");
    if (ref != null && ref.asText().startsWith("#/")) {
      return acceptsNull(root, root.at(ref.asText().substring(1)));
    }
    if (property.has("anyOf") || property.has("oneOf")) {
      JsonNode branches = property.has("anyOf") ? property.get("anyOf") : property.get("oneOf");
      for (JsonNode b : branches) {
        if (acceptsNull(root, b)) {
          return true;
        }
      }
      return false;
    }
    if (property.has("if")) {
      return property.get("if").path("type").asText().equals("null");
    }
    JsonNode type = property.get("type");
    if (type == null) {
      return ref == null && !property.has("const") && !property.has("enum");
    }
    if (type.isTextual()) {
      return type.asText().equals("null");
    }
    for (JsonNode t : type) {
      if (t.asText().equals("null")) {
        return true;
      }
    }
    return false;
  }
}
