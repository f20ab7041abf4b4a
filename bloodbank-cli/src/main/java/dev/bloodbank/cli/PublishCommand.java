package dev.bloodbank.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.Source;
import dev.bloodbank.validation.EventValidator;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.validation.Violation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code bb publish}. */
@Command(
    name = "publish",
    description = "Validate and publish one event; prints its event id.",
    footer = {
      "",
      "Examples:",
      "  bb publish fireflies.transcript.upload --mock",
      "  bb publish llm.prompt --json '{\"provider\":\"anthropic\",\"model\":\"claude\",\"prompt\":\"hi\"}'",
      "  cat payload.json | bb publish llm.prompt --json -",
      "  bb publish agent.thread.response --payload-file r.json --correlation-id <parent id>",
      "  bb publish llm.prompt --envelope-file event.json --dry-run"
    })
final class PublishCommand implements Callable<Integer> {
  @ParentCommand Bb bb;

  @Parameters(index = "0", paramLabel = "<event-type>", description = "Event type (routing key).")
  String eventType;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Input input;

  static final class Input {
    @Option(names = "--payload-file", paramLabel = "F", description = "Payload JSON from a file.")
    @Nullable Path payloadFile;

    @Option(
        names = "--json",
        paramLabel = "JSON",
        description = "Payload JSON inline, or - for standard input.")
    @Nullable String json;

    @Option(
        names = "--envelope-file",
        paramLabel = "F",
        description = "A whole event envelope from a file.")
    @Nullable Path envelopeFile;

    @Option(
        names = "--mock",
        description = "Generate a valid example payload from the event's schema.")
    boolean mock;
  }

  @Option(
      names = "--correlation-id",
      paramLabel = "ID",
      description = "Id of an event that caused this one (repeatable).")
  List<UUID> correlationIds = new ArrayList<>();

  @Option(
      names = "--source-app",
      paramLabel = "A",
      description = "Source application (default: bb).")
  String sourceApp = "bb";

  @Option(
      names = "--dry-run",
      description =
          "Validate and print the envelope, connect to check the broker and exchange; publish"
              + " nothing. An event type outside the catalog is a warning here.")
  boolean dryRun;

  @Option(names = "--offline", description = "With --dry-run: do not connect to the broker.")
  boolean offline;

  @ArgGroup(exclusive = true)
  @Nullable Validation validation;

  static final class Validation {
    @Option(
        names = "--strict",
        description = "Unknown event types and schema violations fail (default).")
    boolean strict;

    @Option(
        names = "--permissive-validation",
        description = "Unknown event types pass; known ones are validated.")
    boolean permissive;

    @Option(names = "--skip-validation", description = "Publish without validating.")
    boolean skip;
  }

  @Override
  public Integer call() throws Exception {
    ValidationMode mode =
        validation == null || validation.strict
            ? ValidationMode.STRICT
            : validation.permissive ? ValidationMode.PERMISSIVE : ValidationMode.SKIP;
    EventCodec codec = bb.codec();
    boolean known = bb.registry().find(eventType).isPresent();
    if (!known && dryRun && mode == ValidationMode.STRICT) {
      // A dry run is also the Python guide's connectivity check ("bb publish test-event --mock
      // --dry-run"): an unknown type is worth a warning there, not a failure.
      bb.err.println(
          "bb: warning: '"
              + eventType
              + "' is not in the catalog; a real publish would be refused (--permissive-validation"
              + " lets it through)");
      mode = ValidationMode.PERMISSIVE;
    }
    EventEnvelope<JsonNode> envelope = build(codec, known);
    List<Violation> violations =
        EventValidator.create(bb.registry(), codec.objectMapper()).check(envelope, mode);
    if (!violations.isEmpty()) {
      bb.err.println(
          "bb: event '"
              + envelope.eventType()
              + "' is invalid ("
              + violations.size()
              + " violation"
              + (violations.size() == 1 ? "" : "s")
              + "):");
      for (Violation v : violations) {
        bb.err.println("  " + v.envelopePointer() + ": " + v.message());
      }
      return Bb.INVALID;
    }
    if (dryRun) {
      ObjectMapper pretty = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
      bb.out.println(pretty.writeValueAsString(pretty.readTree(codec.encode(envelope))));
      if (!offline) {
        // Connects and checks the exchange (publishing nothing): the connectivity check.
        try (Bloodbank bus = bb.connect(ValidationMode.SKIP)) {
          bb.err.println(
              "bb: dry run: connected to "
                  + bus.options().addresses()
                  + ", exchange '"
                  + bus.options().exchange()
                  + "' ready; nothing published");
        }
      }
      return Bb.OK;
    }
    boolean tracking = !envelope.correlationIds().isEmpty();
    try (Bloodbank bus = Bloodbank.connect(bb.options(ValidationMode.SKIP, tracking))) {
      bus.publisher(PublisherOptions.builder().build()).publish(envelope).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
    bb.out.println(envelope.eventId());
    return Bb.OK;
  }

  private EventEnvelope<JsonNode> build(EventCodec codec, boolean known) throws IOException {
    if (input.envelopeFile != null) {
      EventEnvelope<JsonNode> e = codec.decode(read(input.envelopeFile));
      if (!e.eventType().equals(eventType)) {
        throw new Bb.CliException(
            "the envelope in "
                + input.envelopeFile
                + " is of type '"
                + e.eventType()
                + "', not '"
                + eventType
                + "'");
      }
      return correlationIds.isEmpty()
          ? e
          : e.toBuilder().withCorrelationIds(merge(e.correlationIds())).build();
    }
    JsonNode payload;
    if (input.mock) {
      payload =
          known
              ? MockPayloads.example(bb.registry().schema(eventType))
              : codec.objectMapper().createObjectNode();
    } else if (input.payloadFile != null) {
      payload = parse(codec, read(input.payloadFile), input.payloadFile.toString());
    } else {
      String json = input.json;
      byte[] bytes =
          "-".equals(json)
              ? Bb.readAll(bb.stdin)
              : String.valueOf(json).getBytes(StandardCharsets.UTF_8);
      payload = parse(codec, bytes, "-".equals(json) ? "standard input" : "--json");
    }
    return EventEnvelope.builder(eventType, payload)
        .withCorrelationIds(correlationIds)
        .withSource(Source.local(sourceApp))
        .build();
  }

  private List<UUID> merge(List<UUID> existing) {
    List<UUID> all = new ArrayList<>(existing);
    for (UUID id : correlationIds) {
      if (!all.contains(id)) {
        all.add(id);
      }
    }
    return all;
  }

  private static JsonNode parse(EventCodec codec, byte[] bytes, String where) {
    try {
      return codec.parse(bytes);
    } catch (dev.bloodbank.MalformedEventException e) {
      throw new Bb.CliException("bad JSON in " + where + ": " + e.getMessage());
    }
  }

  private static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new Bb.CliException("cannot read " + file + ": " + e.getMessage());
    }
  }
}
