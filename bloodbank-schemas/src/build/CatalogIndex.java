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
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Build step of bloodbank-schemas: writes the catalog index that dev.bloodbank.registry reads.
 *
 * <p>Run by exec-maven-plugin as a single-file program: {@code java CatalogIndex.java <schemas dir>
 * <output file>}. Every {@code *.schema.json} outside {@code common/} must declare {@code
 * x-bloodbank.event_type} and {@code javaType}; event types must be unique. Fails the build,
 * naming the file, otherwise.
 */
public final class CatalogIndex {
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    Path out = Path.of(args[1]);
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files =
          s.filter(p -> p.getFileName().toString().endsWith(".schema.json"))
              .filter(p -> !dir.relativize(p).startsWith("common"))
              .sorted()
              .toList();
    }
    ObjectNode root = mapper.createObjectNode();
    root.put("format", 1);
    root.put("envelope_schema", "dev/bloodbank/schemas/common/envelope.v1.schema.json");
    ArrayNode events = root.putArray("events");
    Map<String, Path> seen = new HashMap<>();
    List<String> problems = new ArrayList<>();
    for (Path f : files) {
      JsonNode schema = mapper.readTree(f.toFile());
      String rel = dir.relativize(f).toString().replace('\\', '/');
      JsonNode meta = schema.path("x-bloodbank");
      String type = meta.path("event_type").asText("");
      String javaType = schema.path("javaType").asText("");
      if (type.isEmpty()) {
        problems.add(rel + ": missing x-bloodbank.event_type");
        continue;
      }
      if (javaType.isEmpty()) {
        problems.add(rel + ": missing javaType");
        continue;
      }
      Path before = seen.put(type, f);
      if (before != null) {
        problems.add(rel + ": event type " + type + " is also declared by " + dir.relativize(before));
      }
      ObjectNode e = events.addObject();
      e.put("event_type", type);
      e.put("schema", "dev/bloodbank/schemas/" + rel);
      e.put("payload_class", javaType);
      e.put("command", meta.path("command").asBoolean(false));
      e.put("title", schema.path("title").asText(""));
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException("bad schema catalog:\n  " + String.join("\n  ", problems));
    }
    Files.createDirectories(out.getParent());
    Files.writeString(out, mapper.writeValueAsString(root) + "\n");
    System.out.println("catalog index: " + events.size() + " events -> " + out);
  }
}
