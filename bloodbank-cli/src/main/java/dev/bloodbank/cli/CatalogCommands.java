package dev.bloodbank.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.bloodbank.registry.EventDefinition;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code bb list-events}, {@code bb list-commands}, {@code bb show}: the catalog, offline. */
final class CatalogCommands {
  private CatalogCommands() {}

  static void print(Bb bb, List<EventDefinition> defs) {
    int width = defs.stream().mapToInt(d -> d.eventType().length()).max().orElse(10);
    for (EventDefinition d : defs) {
      bb.out.println(
          bb.bold(String.format("%-" + width + "s", d.eventType()))
              + "  "
              + d.title()
              + (d.command() ? bb.dim("  [command]") : ""));
    }
  }

  /**
   * One line per top-level property of a payload schema: name, type (and format), whether it is
   * required, and its description.
   */
  static List<String> fields(JsonNode schema) {
    Set<String> required = new HashSet<>();
    schema.path("required").forEach(r -> required.add(r.asText()));
    List<String> out = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> it = schema.path("properties").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> p = it.next();
      JsonNode s = p.getValue();
      String type =
          s.has("type")
              ? s.get("type").toString().replace("\"", "")
              : s.has("$ref") ? "object" : "any";
      out.add(
          String.format(
              "  %-24s %-18s %s%s",
              p.getKey(),
              type + (s.has("format") ? " (" + s.get("format").asText() + ")" : ""),
              required.contains(p.getKey()) ? "required " : "",
              s.path("description").asText("")));
    }
    return out;
  }

  @Command(
      name = "list-events",
      description = "List the event types of the catalog.",
      footer = {"", "Examples:", "  bb list-events", "  bb list-events --domain fireflies"})
  static final class ListEvents implements Callable<Integer> {
    @ParentCommand Bb bb;

    @Option(
        names = "--domain",
        paramLabel = "D",
        description = "Only this domain, e.g. agent or agent.thread.")
    @Nullable String domain;

    @Override
    public Integer call() {
      List<EventDefinition> defs =
          domain == null ? bb.registry().all() : bb.registry().events(domain);
      if (defs.isEmpty() && domain != null) {
        throw new Bb.CliException(
            "no events in domain '"
                + domain
                + "'; domains: "
                + String.join(", ", bb.registry().domains()));
      }
      print(bb, defs);
      return Bb.OK;
    }
  }

  @Command(
      name = "list-commands",
      description = "List the command types of the catalog.",
      footer = {"", "Example:", "  bb list-commands"})
  static final class ListCommands implements Callable<Integer> {
    @ParentCommand Bb bb;

    @Override
    public Integer call() {
      print(bb, bb.registry().commands());
      return Bb.OK;
    }
  }

  @Command(
      name = "show",
      description =
          "Show an event type: its schema summary, required fields and an example payload.",
      footer = {"", "Example:", "  bb show transcription.voice.completed"})
  static final class Show implements Callable<Integer> {
    @ParentCommand Bb bb;

    @Parameters(paramLabel = "<event-type>")
    String eventType;

    @Override
    public Integer call() throws Exception {
      EventDefinition d = bb.registry().require(eventType);
      JsonNode schema = bb.registry().schema(eventType);
      bb.out.println(
          bb.bold(d.eventType()) + (d.command() ? "  [command]" : "") + " — " + d.title());
      if (schema.hasNonNull("description")) {
        bb.out.println(schema.get("description").asText());
      }
      bb.out.println("schema:  " + d.schemaLocation());
      bb.out.println("class:   " + d.payloadClassName());
      bb.out.println("fields:");
      fields(schema).forEach(bb.out::println);
      ObjectMapper pretty = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
      bb.out.println("example payload:");
      bb.out.println(pretty.writeValueAsString(MockPayloads.example(schema)));
      return Bb.OK;
    }
  }
}
