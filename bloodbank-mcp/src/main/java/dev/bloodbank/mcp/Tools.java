package dev.bloodbank.mcp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.ConnectionException;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.PublishException;
import dev.bloodbank.Subscriber;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.archive.Replay;
import dev.bloodbank.archive.ReplayOptions;
import dev.bloodbank.correlation.CorrelationGraph;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.deadletter.DeadLetter;
import dev.bloodbank.deadletter.DeadLetterQueueInfo;
import dev.bloodbank.internal.LogSafe;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.validation.EventValidator;
import dev.bloodbank.validation.ValidationResult;
import dev.bloodbank.validation.Violation;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.McpServerFeatures.SyncResourceSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The tools and resources of {@link BloodbankMcp}. Thread-safe. */
final class Tools {
  static final String LIST_EVENT_TYPES = "list_event_types";
  static final String SHOW_SCHEMA = "show_schema";
  static final String PUBLISH_EVENT = "publish_event";
  static final String PUBLISH_LLM_PROMPT = "publish_llm_prompt";
  static final String PUBLISH_LLM_RESPONSE = "publish_llm_response";
  static final String PUBLISH_ARTIFACT = "publish_artifact";
  static final String TRACE_EVENT = "trace_event";
  static final String RECENT_EVENTS = "recent_events";
  static final String DEAD_LETTERS = "dead_letters";

  private static final Set<String> PUBLISHING =
      Set.of(PUBLISH_EVENT, PUBLISH_LLM_PROMPT, PUBLISH_LLM_RESPONSE, PUBLISH_ARTIFACT);
  private static final Logger LOG = LoggerFactory.getLogger(Tools.class);
  private static final int MAX_RECENT = 200;
  private static final int MAX_DEAD_LETTERS = 100;
  private static final int MAX_BODY_CHARS = 4096;

  private final BusAccess bus;
  private final EventRegistry registry;
  private final EventValidator validator;
  private final @Nullable CorrelationTracker tracker;
  private final String archiveQueue;
  private final Duration liveWindow;
  private final Duration timeout;
  private final ObjectMapper mapper;
  private final Predicate<McpTransportContext> publishAllowed;
  private final EventCodec codec = EventCodec.create();
  private final McpJsonMapper json = BloodbankMcp.jsonMapper();
  private final List<SyncToolSpecification> specifications;
  private final List<SyncResourceSpecification> resources;

  Tools(
      BusAccess bus,
      EventRegistry registry,
      @Nullable CorrelationTracker tracker,
      String archiveQueue,
      Duration liveWindow,
      Duration timeout,
      Predicate<McpTransportContext> publishAllowed,
      ObjectMapper mapper) {
    this.publishAllowed = publishAllowed;
    this.bus = bus;
    this.registry = registry;
    this.validator = EventValidator.create(registry);
    this.tracker = tracker;
    this.archiveQueue = archiveQueue;
    this.liveWindow = liveWindow;
    this.timeout = timeout;
    this.mapper = mapper;
    this.specifications = List.copyOf(buildTools());
    this.resources = List.copyOf(buildResources());
  }

  List<SyncToolSpecification> specifications() {
    return specifications;
  }

  List<SyncResourceSpecification> resources() {
    return resources;
  }

  // ---------------------------------------------------------------- definitions

  private List<SyncToolSpecification> buildTools() {
    List<SyncToolSpecification> t = new ArrayList<>();
    t.add(
        tool(
            LIST_EVENT_TYPES,
            "List the event types of the catalog, with their domain and title.",
            "{\"type\":\"object\",\"properties\":{"
                + "\"domain\":{\"type\":\"string\",\"description\":\"Only this domain, e.g. llm.\"}"
                + "}}",
            this::listEventTypes));
    t.add(
        tool(
            SHOW_SCHEMA,
            "Show the JSON Schema of an event type's payload.",
            "{\"type\":\"object\",\"properties\":{"
                + "\"event_type\":{\"type\":\"string\",\"description\":\"e.g. llm.prompt\"}},"
                + "\"required\":[\"event_type\"]}",
            this::showSchema));
    t.add(
        tool(
            PUBLISH_EVENT,
            "Validate an event's payload against its schema and publish it (or only validate it"
                + " with dry_run). Answers with the event id.",
            "{\"type\":\"object\",\"properties\":{"
                + "\"event_type\":{\"type\":\"string\",\"description\":\"A catalog event type.\"},"
                + "\"payload\":{\"type\":\"object\",\"description\":\"The payload, checked"
                + " against the event type's schema.\"},"
                + CORRELATION
                + ","
                + DRY_RUN
                + "},\"required\":[\"event_type\",\"payload\"]}",
            this::publishEvent));
    t.add(
        tool(
            PUBLISH_LLM_PROMPT,
            "Publish an llm.prompt event: a prompt sent to a language model. Answers with its"
                + " event id, to give publish_llm_response.",
            "{\"type\":\"object\",\"properties\":{"
                + "\"provider\":{\"type\":\"string\",\"description\":\"e.g. anthropic\"},"
                + "\"prompt\":{\"type\":\"string\"},"
                + "\"model\":{\"type\":\"string\",\"description\":\"Optional, e.g."
                + " claude-sonnet-4.\"},"
                + DRY_RUN
                + "},\"required\":[\"provider\",\"prompt\"]}",
            this::publishLlmPrompt));
    t.add(
        tool(
            PUBLISH_LLM_RESPONSE,
            "Publish an llm.response event correlated to the llm.prompt event it answers.",
            "{\"type\":\"object\",\"properties\":{"
                + "\"prompt_event_id\":{\"type\":\"string\",\"format\":\"uuid\","
                + "\"description\":\"The event id publish_llm_prompt answered with.\"},"
                + "\"provider\":{\"type\":\"string\"},"
                + "\"response\":{\"type\":\"string\"},"
                + "\"model\":{\"type\":\"string\"},"
                + "\"tokens_used\":{\"type\":\"integer\",\"minimum\":0},"
                + "\"duration_ms\":{\"type\":\"integer\",\"minimum\":0},"
                + "\"finish_reason\":{\"type\":\"string\"},"
                + DRY_RUN
                + "},\"required\":[\"prompt_event_id\",\"provider\",\"response\"]}",
            this::publishLlmResponse));
    t.add(
        tool(
            PUBLISH_ARTIFACT,
            "Publish an artifact.created event: a file, transcript or other artifact exists at a"
                + " URI.",
            "{\"type\":\"object\",\"properties\":{"
                + "\"kind\":{\"type\":\"string\",\"description\":\"e.g. transcript\"},"
                + "\"uri\":{\"type\":\"string\",\"description\":\"Where it is, e.g."
                + " s3://bucket/t.json\"},"
                + "\"title\":{\"type\":\"string\"},"
                + "\"content\":{\"type\":\"string\"},"
                + "\"metadata\":{\"type\":\"object\"},"
                + CORRELATION
                + ","
                + DRY_RUN
                + "},\"required\":[\"kind\",\"uri\"]}",
            this::publishArtifact));
    t.add(
        tool(
            TRACE_EVENT,
            "Show what an event caused (descendants, the default) or what caused it (ancestors),"
                + " from the causation graph in Redis.",
            "{\"type\":\"object\",\"properties\":{"
                + "\"event_id\":{\"type\":\"string\",\"format\":\"uuid\"},"
                + "\"direction\":{\"type\":\"string\",\"enum\":[\"descendants\",\"ancestors\"]},"
                + "\"max_depth\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100}"
                + "},\"required\":[\"event_id\"]}",
            this::traceEvent));
    t.add(
        tool(
            RECENT_EVENTS,
            "Recent events matching a topic pattern: from the archive when there is one, otherwise"
                + " those published during a short live window.",
            "{\"type\":\"object\",\"properties\":{"
                + "\"pattern\":{\"type\":\"string\",\"description\":\"Topic pattern, default #\"},"
                + "\"since\":{\"type\":\"string\",\"description\":\"How far back in the archive:"
                + " 30s, 5m, 2h, 1d or ISO-8601 (PT5M); default 5m.\"},"
                + "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":"
                + MAX_RECENT
                + ",\"description\":\"The newest this many; default 20.\"}"
                + "}}",
            this::recentEvents));
    t.add(
        tool(
            DEAD_LETTERS,
            "Count and show the events in a dead-letter queue (<queue>.dlq) without taking them.",
            "{\"type\":\"object\",\"properties\":{"
                + "\"queue\":{\"type\":\"string\",\"description\":\"e.g. orders.dlq\"},"
                + "\"limit\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":"
                + MAX_DEAD_LETTERS
                + ",\"description\":\"How many to show; default 10.\"}"
                + "},\"required\":[\"queue\"]}",
            this::deadLetters));
    return t;
  }

  private static final String CORRELATION =
      "\"correlation_ids\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"format\":\"uuid\"},"
          + "\"description\":\"Ids of the events that caused this one.\"}";
  private static final String DRY_RUN =
      "\"dry_run\":{\"type\":\"boolean\",\"description\":\"Validate and show the envelope;"
          + " publish nothing.\"}";

  private SyncToolSpecification tool(
      String name,
      String description,
      String inputSchema,
      Function<Map<String, Object>, Map<String, Object>> body) {
    McpSchema.Tool tool =
        McpSchema.Tool.builder()
            .name(name)
            .description(description)
            .inputSchema(json, inputSchema)
            .build();
    return SyncToolSpecification.builder()
        .tool(tool)
        .callHandler(
            (exchange, request) -> {
              Map<String, Object> args =
                  request.arguments() == null ? Map.of() : request.arguments();
              if (PUBLISHING.contains(name)
                  && !Boolean.TRUE.equals(args.get("dry_run"))
                  && !publishAllowed.test(exchange.transportContext())) {
                return error(
                    "forbidden",
                    name
                        + " publishes, which this caller may not (an API key with the 'publish'"
                        + " scope may); dry_run is allowed",
                    null);
              }
              return call(name, args, body);
            })
        .build();
  }

  private List<SyncResourceSpecification> buildResources() {
    List<SyncResourceSpecification> out = new ArrayList<>();
    for (EventDefinition d : registry.all()) {
      String uri = BloodbankMcp.SCHEMA_URI_PREFIX + d.eventType();
      McpSchema.Resource r =
          McpSchema.Resource.builder()
              .uri(uri)
              .name(d.eventType())
              .title(d.title())
              .description("JSON Schema of the " + d.eventType() + " payload")
              .mimeType("application/schema+json")
              .build();
      out.add(
          new SyncResourceSpecification(
              r,
              (exchange, request) ->
                  new McpSchema.ReadResourceResult(
                      List.of(
                          new McpSchema.TextResourceContents(
                              uri,
                              "application/schema+json",
                              registry.schema(d.eventType()).toPrettyString())))));
    }
    return out;
  }

  // ---------------------------------------------------------------- results

  /** Runs a tool; every failure becomes an error result, never a protocol error. */
  private CallToolResult call(
      String name,
      Map<String, Object> args,
      Function<Map<String, Object>, Map<String, Object>> body) {
    try {
      Map<String, Object> out = body.apply(args);
      return CallToolResult.builder()
          .addTextContent(text(out))
          .structuredContent(out)
          .isError(false)
          .build();
    } catch (ToolFailure f) {
      return error(f.code, f.getMessage(), f.violations);
    } catch (ConnectionException e) {
      return error("broker_unreachable", "the broker cannot be reached: " + e.getMessage(), null);
    } catch (PublishException e) {
      return error(
          "publish_failed",
          "the broker did not confirm the event ("
              + e.kind().name().toLowerCase(Locale.ROOT)
              + "): "
              + e.getMessage(),
          null);
    } catch (BloodbankException | IllegalArgumentException e) {
      return error("failed", String.valueOf(e.getMessage()), null);
    } catch (RuntimeException e) {
      LOG.warn("MCP tool {} failed", name, e);
      return error("internal", e.getClass().getSimpleName() + ": " + e.getMessage(), null);
    }
  }

  private CallToolResult error(
      String code, String message, @Nullable List<Map<String, String>> violations) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("error", code);
    out.put("message", message);
    List<Map<String, String>> v = violations == null ? List.of() : violations;
    out.put("violations", v);
    StringBuilder text = new StringBuilder(message);
    for (Map<String, String> x : v) {
      text.append("\n  ").append(x.get("pointer")).append(": ").append(x.get("message"));
    }
    return CallToolResult.builder()
        .addTextContent(text.toString())
        .structuredContent(out)
        .isError(true)
        .build();
  }

  private String text(Map<String, Object> out) {
    try {
      return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(out);
    } catch (JsonProcessingException e) {
      return String.valueOf(out);
    }
  }

  // ---------------------------------------------------------------- catalog

  private Map<String, Object> listEventTypes(Map<String, Object> args) {
    @Nullable String domain = optString(args, "domain");
    List<Map<String, Object>> types = new ArrayList<>();
    for (EventDefinition d : domain == null ? registry.all() : registry.events(domain)) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("event_type", d.eventType());
      m.put("domain", d.domain());
      m.put("title", d.title());
      m.put("command", d.command());
      m.put("schema_uri", BloodbankMcp.SCHEMA_URI_PREFIX + d.eventType());
      types.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("count", types.size());
    out.put("event_types", types);
    return out;
  }

  private Map<String, Object> showSchema(Map<String, Object> args) {
    String type = known(reqString(args, "event_type"));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("event_type", type);
    out.put("schema_uri", BloodbankMcp.SCHEMA_URI_PREFIX + type);
    out.put("schema", tree(registry.schema(type)));
    return out;
  }

  private String known(String eventType) {
    try {
      EventEnvelope.checkEventType(eventType);
    } catch (IllegalArgumentException e) {
      throw ToolFailure.argument("/event_type", "pattern", e.getMessage());
    }
    if (!registry.contains(eventType)) {
      throw new ToolFailure(
          "unknown_event_type",
          "unknown event type '"
              + LogSafe.escape(eventType)
              + "': not in the catalog; list_event_types lists the known ones");
    }
    return eventType;
  }

  // ---------------------------------------------------------------- publishing

  private Map<String, Object> publishEvent(Map<String, Object> args) {
    String type = known(reqString(args, "event_type"));
    Object raw = args.get("payload");
    if (raw == null) {
      throw ToolFailure.argument("/payload", "required", "the payload is required");
    }
    JsonNode payload;
    if (raw instanceof String s) {
      try {
        payload = mapper.readTree(s);
      } catch (JsonProcessingException e) {
        throw ToolFailure.argument(
            "/payload", "type", "not a JSON object: " + e.getOriginalMessage());
      }
    } else {
      payload = mapper.valueToTree(raw);
    }
    return publish(type, payload, uuids(args, "correlation_ids"), bool(args, "dry_run"));
  }

  private Map<String, Object> publishLlmPrompt(Map<String, Object> args) {
    ObjectNode p = mapper.createObjectNode();
    p.put("provider", reqString(args, "provider"));
    p.put("model", optString(args, "model"));
    p.put("prompt", reqString(args, "prompt"));
    // As the Python tool writes it: the optional fields null, tags an empty list.
    p.putNull("project");
    p.putNull("working_dir");
    p.putNull("domain");
    p.putArray("tags");
    return publish("llm.prompt", p, List.of(), bool(args, "dry_run"));
  }

  private Map<String, Object> publishLlmResponse(Map<String, Object> args) {
    UUID prompt = uuid(args, "prompt_event_id");
    ObjectNode p = mapper.createObjectNode();
    p.put("provider", reqString(args, "provider"));
    p.put("prompt_id", prompt.toString());
    p.put("model", optString(args, "model"));
    p.put("response", reqString(args, "response"));
    p.set("tokens_used", optInt(args, "tokens_used"));
    p.set("duration_ms", optInt(args, "duration_ms"));
    p.put("finish_reason", optString(args, "finish_reason"));
    return publish("llm.response", p, List.of(prompt), bool(args, "dry_run"));
  }

  private Map<String, Object> publishArtifact(Map<String, Object> args) {
    ObjectNode p = mapper.createObjectNode();
    p.put("action", "created");
    p.put("kind", reqString(args, "kind"));
    p.put("uri", reqString(args, "uri"));
    p.put("title", optString(args, "title"));
    p.put("content", optString(args, "content"));
    Object metadata = args.get("metadata");
    if (metadata != null && !(metadata instanceof Map)) {
      throw ToolFailure.argument("/metadata", "type", "must be an object");
    }
    p.set("metadata", metadata == null ? p.nullNode() : mapper.valueToTree(metadata));
    return publish("artifact.created", p, uuids(args, "correlation_ids"), bool(args, "dry_run"));
  }

  /** Validates, then publishes (or with a dry run only shows) the event. */
  private Map<String, Object> publish(
      String type, JsonNode payload, List<UUID> parents, boolean dryRun) {
    ValidationResult result = validator.checkPayload(type, payload);
    if (!result.isValid()) {
      List<Map<String, String>> v = new ArrayList<>();
      for (Violation x : result.violations()) {
        v.add(Map.of("pointer", x.pointer(), "keyword", x.keyword(), "message", x.message()));
      }
      throw new ToolFailure(
          "validation_failed",
          "the " + type + " payload breaks its schema (" + v.size() + " violation(s))",
          v);
    }
    EventEnvelope<JsonNode> envelope =
        EventEnvelope.builder(type, payload).withCorrelationIds(parents).build();
    Map<String, Object> out = new LinkedHashMap<>();
    if (dryRun) {
      out.put("dry_run", true);
      out.put("valid", true);
      out.put("envelope", tree(envelope));
      return out;
    }
    Bloodbank b = bus.get();
    EventEnvelope<JsonNode> sent = await(b.publisher().publish(envelope), "the publish");
    out.put("published", true);
    out.put("event_id", sent.eventId().toString());
    out.put("event_type", sent.eventType());
    out.put("correlation_ids", sent.correlationIds().stream().map(UUID::toString).toList());
    out.put("timestamp", sent.timestamp().toString());
    return out;
  }

  // ---------------------------------------------------------------- inspection

  private Map<String, Object> traceEvent(Map<String, Object> args) {
    UUID id = uuid(args, "event_id");
    String direction = Optional.ofNullable(optString(args, "direction")).orElse("descendants");
    if (!direction.equals("descendants") && !direction.equals("ancestors")) {
      throw ToolFailure.argument(
          "/direction", "enum", "must be descendants or ancestors, was '" + direction + "'");
    }
    int depth = optInt(args, "max_depth", 1, 100, 10);
    CorrelationTracker t = tracker != null ? tracker : bus.tracker().orElse(null);
    if (t == null) {
      throw new ToolFailure(
          "tracing_off",
          "causation tracking is off: set REDIS_URL (or give the server a CorrelationTracker)");
    }
    CorrelationGraph g =
        await(
            direction.equals("ancestors") ? t.ancestors(id, depth) : t.descendants(id, depth),
            "the causation graph");
    List<List<String>> levels = new ArrayList<>();
    for (List<UUID> level : g.levels()) {
      levels.add(level.stream().map(UUID::toString).toList());
    }
    List<Map<String, String>> edges = new ArrayList<>();
    for (CorrelationGraph.Edge e : g.edges()) {
      edges.add(Map.of("parent", e.parent().toString(), "child", e.child().toString()));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("event_id", id.toString());
    out.put("direction", direction);
    out.put("levels", levels);
    out.put("edges", edges);
    out.put("truncated", g.truncated());
    return out;
  }

  private Map<String, Object> recentEvents(Map<String, Object> args) {
    String pattern = Optional.ofNullable(optString(args, "pattern")).orElse("#");
    Duration since = duration(Optional.ofNullable(optString(args, "since")).orElse("5m"));
    int limit = optInt(args, "limit", 1, MAX_RECENT, 20);
    Bloodbank b = bus.get();
    Deque<EventEnvelope<JsonNode>> kept = new ArrayDeque<>();
    Map<String, Object> out = new LinkedHashMap<>();
    boolean archived;
    try {
      b.archiveStats(archiveQueue);
      archived = true;
    } catch (ConnectionException e) {
      throw e;
    } catch (BloodbankException e) {
      archived = false; // no archive (or not a stream): listen live instead
    }
    if (archived) {
      ReplayOptions options =
          ReplayOptions.builder()
              .queue(archiveQueue)
              .since(since)
              .untilNow()
              .pattern(pattern)
              .build();
      try (Replay replay =
          b.replay(
              options,
              JsonNode.class,
              event -> {
                synchronized (kept) {
                  kept.addLast(event);
                  if (kept.size() > limit) {
                    kept.removeFirst();
                  }
                }
              })) {
        await(replay.completion(), "the archive replay");
      }
      out.put("source", "archive");
      out.put("queue", archiveQueue);
      out.put("since", since.toString());
    } else {
      SubscriberOptions options = SubscriberOptions.builder(pattern).temporary().build();
      try (Subscriber s =
          b.subscribe(
              options,
              event -> {
                synchronized (kept) {
                  kept.addLast(event);
                  if (kept.size() > limit) {
                    kept.removeFirst();
                  }
                }
              })) {
        Thread.sleep(liveWindow.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ToolFailure("interrupted", "interrupted while listening");
      }
      out.put("source", "live");
      out.put(
          "note",
          "no archive queue '"
              + archiveQueue
              + "': these are the events published during a "
              + liveWindow.toMillis()
              + " ms window");
    }
    out.put("pattern", pattern);
    List<JsonNode> events = new ArrayList<>();
    synchronized (kept) {
      for (EventEnvelope<JsonNode> e : kept) {
        events.add(tree(e));
      }
    }
    out.put("count", events.size());
    out.put("events", events);
    return out;
  }

  private Map<String, Object> deadLetters(Map<String, Object> args) {
    String queue = reqString(args, "queue");
    int limit = optInt(args, "limit", 0, MAX_DEAD_LETTERS, 10);
    Bloodbank b = bus.get();
    DeadLetterQueueInfo info = b.deadLetters().inspect(queue);
    List<DeadLetter> letters = limit == 0 ? List.of() : b.deadLetters().peek(queue, limit);
    List<Map<String, Object>> shown = new ArrayList<>();
    for (DeadLetter d : letters) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("event_id", d.eventId());
      m.put("event_type", d.eventType());
      m.put("failed_queue", d.failedQueue());
      m.put("reason", d.reason());
      m.put("error_class", d.errorClass());
      m.put("error_message", d.errorMessage());
      m.put("attempts", d.attempts());
      m.put("last_failure", d.lastFailure() == null ? null : d.lastFailure().toString());
      m.put("violations", d.violations());
      String body = d.bodyText();
      m.put(
          "body",
          body.length() > MAX_BODY_CHARS
              ? body.substring(0, MAX_BODY_CHARS) + "... (" + body.length() + " chars)"
              : body);
      shown.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("queue", info.queue());
    out.put("messages", info.messages());
    out.put("consumers", info.consumers());
    out.put("shown", shown);
    return out;
  }

  // ---------------------------------------------------------------- helpers

  private <T> T await(java.util.concurrent.Future<T> f, String what) {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      f.cancel(true);
      throw new ToolFailure("interrupted", "interrupted while waiting for " + what);
    } catch (TimeoutException e) {
      throw new ToolFailure("timed_out", what + " did not complete within " + timeout);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException r) {
        throw r;
      }
      throw new BloodbankException(what + " failed: " + c, c);
    }
  }

  /** The envelope as it goes on the wire, as JSON. */
  private JsonNode tree(EventEnvelope<?> envelope) {
    try {
      return mapper.readTree(codec.encode(envelope));
    } catch (java.io.IOException e) {
      throw new BloodbankException("cannot show the envelope: " + e.getMessage(), e);
    }
  }

  private JsonNode tree(JsonNode node) {
    return node;
  }

  private static String reqString(Map<String, Object> args, String name) {
    Object v = args.get(name);
    if (v == null) {
      throw ToolFailure.argument("/" + name, "required", name + " is required");
    }
    if (!(v instanceof String s)) {
      throw ToolFailure.argument("/" + name, "type", "must be a string, was " + kind(v));
    }
    if (s.isBlank()) {
      throw ToolFailure.argument("/" + name, "minLength", "must not be empty");
    }
    return s;
  }

  private static @Nullable String optString(Map<String, Object> args, String name) {
    Object v = args.get(name);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw ToolFailure.argument("/" + name, "type", "must be a string, was " + kind(v));
    }
    return s;
  }

  private static boolean bool(Map<String, Object> args, String name) {
    Object v = args.get(name);
    if (v == null) {
      return false;
    }
    if (!(v instanceof Boolean b)) {
      throw ToolFailure.argument("/" + name, "type", "must be a boolean, was " + kind(v));
    }
    return b;
  }

  private JsonNode optInt(Map<String, Object> args, String name) {
    Object v = args.get(name);
    if (v == null) {
      return mapper.nullNode();
    }
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw ToolFailure.argument("/" + name, "type", "must be an integer, was " + kind(v));
    }
    return mapper.getNodeFactory().numberNode(n.longValue());
  }

  private static int optInt(Map<String, Object> args, String name, int min, int max, int dflt) {
    Object v = args.get(name);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw ToolFailure.argument("/" + name, "type", "must be an integer, was " + kind(v));
    }
    long x = n.longValue();
    if (x < min || x > max) {
      throw ToolFailure.argument(
          "/" + name, "range", "must be between " + min + " and " + max + ", was " + x);
    }
    return (int) x;
  }

  private static UUID uuid(Map<String, Object> args, String name) {
    String s = reqString(args, name);
    try {
      return UUID.fromString(s);
    } catch (IllegalArgumentException e) {
      throw ToolFailure.argument("/" + name, "format", "not a UUID: '" + LogSafe.escape(s) + "'");
    }
  }

  private static List<UUID> uuids(Map<String, Object> args, String name) {
    Object v = args.get(name);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> list)) {
      throw ToolFailure.argument("/" + name, "type", "must be an array of UUIDs, was " + kind(v));
    }
    List<UUID> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      Object x = list.get(i);
      try {
        out.add(UUID.fromString(String.valueOf(x)));
      } catch (IllegalArgumentException e) {
        throw ToolFailure.argument(
            "/" + name + "/" + i,
            "format",
            "not a UUID: '" + LogSafe.escape(String.valueOf(x)) + "'");
      }
    }
    return out;
  }

  /** 30s, 5m, 2h, 1d, or ISO-8601 such as PT5M. */
  static Duration duration(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    try {
      Duration d;
      if (t.startsWith("p")) {
        d = Duration.parse(t.toUpperCase(Locale.ROOT));
      } else {
        long n = Long.parseLong(t.substring(0, t.length() - 1));
        d =
            switch (t.charAt(t.length() - 1)) {
              case 's' -> Duration.ofSeconds(n);
              case 'm' -> Duration.ofMinutes(n);
              case 'h' -> Duration.ofHours(n);
              case 'd' -> Duration.ofDays(n);
              default -> throw new NumberFormatException();
            };
      }
      if (d.isNegative() || d.isZero()) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException | DateTimeParseException | StringIndexOutOfBoundsException e) {
      throw ToolFailure.argument(
          "/since",
          "format",
          "not a positive duration: '" + LogSafe.escape(s) + "' (use 30s, 5m, 2h, 1d or PT5M)");
    }
  }

  private static String kind(Object v) {
    if (v instanceof Map) {
      return "an object";
    }
    if (v instanceof List) {
      return "an array";
    }
    if (v instanceof String) {
      return "a string";
    }
    if (v instanceof Number) {
      return "a number";
    }
    if (v instanceof Boolean) {
      return "a boolean";
    }
    return v.getClass().getSimpleName();
  }
}
