package dev.bloodbank.server.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.EventIds;
import dev.bloodbank.EventTooLargeException;
import dev.bloodbank.MalformedEventException;
import dev.bloodbank.PublishException;
import dev.bloodbank.Publisher;
import dev.bloodbank.TriggerType;
import dev.bloodbank.UnroutableEventException;
import dev.bloodbank.observability.BloodbankObservability;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.validation.EventValidator;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.validation.Violation;
import io.javalin.http.Context;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.RequestReplyReceiverContext;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code /events}: publish, the catalog and schemas. */
final class EventsApi {
  private static final Logger LOG = LoggerFactory.getLogger(EventsApi.class);

  /** The keys of a wrapper body; any other key makes the body a bare payload. */
  private static final Set<String> WRAPPER_KEYS =
      Set.of(
          "payload",
          "correlation_ids",
          "agent_context",
          "deterministic_id_keys",
          "event_id",
          "event_type",
          "source",
          "timestamp",
          "version");

  private final Bloodbank bus;
  private final Publisher publisher;
  private final EventValidator validator;
  private final ValidationMode mode;
  private final int maxBodyBytes;
  private final AtomicInteger inFlight;

  EventsApi(
      Bloodbank bus,
      Publisher publisher,
      ValidationMode mode,
      int maxBodyBytes,
      AtomicInteger inFlight) {
    this.bus = bus;
    this.publisher = publisher;
    this.validator = EventValidator.create(bus.registry(), bus.codec().objectMapper());
    this.mode = mode;
    this.maxBodyBytes = maxBodyBytes;
    this.inFlight = inFlight;
    BloodbankObservability o = bus.options().observability();
    ObservationRegistry r = o == null ? null : o.observationRegistry();
    this.observations = r == null || r == ObservationRegistry.NOOP ? null : r;
  }

  /** Observation of an HTTP publish: a server span that continues the caller's trace. */
  static final String HTTP_PUBLISH_OBSERVATION = "bloodbank.http.server.publish";

  // The bus's observation registry, or null: the publish routes continue an incoming trace.
  private final @Nullable ObservationRegistry observations;

  /**
   * Starts a server observation of a publish request that reads the caller's {@code traceparent}
   * (through the registry's propagator), or null without observations. Opened around the publish,
   * so the producer span is its child: one trace from the HTTP client on.
   */
  private @Nullable Observation httpObservation(Context ctx) {
    ObservationRegistry r = observations;
    if (r == null) {
      return null;
    }
    try {
      RequestReplyReceiverContext<Context, Context> rc =
          new RequestReplyReceiverContext<>((carrier, key) -> carrier.header(key));
      rc.setCarrier(ctx);
      String route =
          ctx.endpoints().matchedHttpEndpoint() == null
              ? ctx.path()
              : ctx.endpoints().matchedHttpEndpoint().path;
      return Observation.createNotStarted(HTTP_PUBLISH_OBSERVATION, () -> rc, r)
          .contextualName("POST " + route)
          .lowCardinalityKeyValue("http.request.method", "POST")
          .lowCardinalityKeyValue("http.route", route)
          .start();
    } catch (RuntimeException e) {
      LOG.warn("could not observe an HTTP publish: {}", e.toString());
      return null;
    }
  }

  private static void stop(@Nullable Observation http, int status, @Nullable Throwable error) {
    if (http == null) {
      return;
    }
    try {
      if (error != null) {
        http.error(error);
      }
      http.lowCardinalityKeyValue("http.response.status_code", Integer.toString(status)).stop();
    } catch (RuntimeException e) {
      LOG.warn("could not end the observation of an HTTP publish: {}", e.toString());
    }
  }

  /** {@code GET /events}: the catalog. */
  void catalog(Context ctx) {
    EventRegistry registry = bus.registry();
    ObjectNode out = Json.object();
    ArrayNode events = Json.MAPPER.createArrayNode();
    for (EventDefinition d : registry.all()) {
      ObjectNode e = events.addObject();
      e.put("event_type", d.eventType());
      e.put("domain", d.domain());
      e.put("command", d.command());
      e.put("title", d.title());
      e.put("schema", "/events/" + d.eventType() + "/schema");
    }
    out.put("count", events.size());
    out.set("events", events);
    Json.send(ctx, 200, out);
  }

  /** {@code GET /events/{event_type}/schema}. */
  void schema(Context ctx) {
    String type = ctx.pathParam("event_type");
    if (!bus.registry().contains(type)) {
      throw unknownType(type);
    }
    Json.send(ctx, 200, bus.registry().schema(type));
  }

  /** {@code POST /events/{event_type}}: a payload, or a wrapper with envelope fields. */
  void publishTyped(Context ctx, String client) {
    String type = ctx.pathParam("event_type");
    try {
      EventEnvelope.checkEventType(type);
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest("the event type in the path is not valid: " + e.getMessage());
    }
    JsonNode body = readBody(ctx);
    ObjectNode envelope;
    if (isWrapper(body)) {
      JsonNode named = body.get("event_type");
      if (named != null && !type.equals(named.asText())) {
        throw ApiError.badRequest(
            "/event_type is '" + named.asText() + "' but the path names '" + type + "'");
      }
      envelope = envelope(type, (ObjectNode) body.deepCopy(), client, ctx.ip());
    } else {
      ObjectNode wrapper = Json.object();
      wrapper.set("payload", body);
      envelope = envelope(type, wrapper, client, ctx.ip());
    }
    publish(ctx, envelope);
  }

  /** {@code POST /events/custom}: a whole envelope, its type in {@code /event_type}. */
  void publishCustom(Context ctx, String client) {
    JsonNode body = readBody(ctx);
    if (!body.isObject()) {
      throw ApiError.badRequest("the body must be a JSON object (an event envelope)");
    }
    JsonNode type = body.get("event_type");
    if (type == null || !type.isTextual()) {
      throw ApiError.badRequest(
          "/event_type is required: a string such as \"fireflies.transcript.ready\"");
    }
    if (!body.has("payload")) {
      throw ApiError.badRequest("/payload is required");
    }
    publish(ctx, envelope(type.asText(), (ObjectNode) body.deepCopy(), client, ctx.ip()));
  }

  private static boolean isWrapper(JsonNode body) {
    if (!body.isObject() || !body.has("payload")) {
      return false;
    }
    var names = body.fieldNames();
    while (names.hasNext()) {
      if (!WRAPPER_KEYS.contains(names.next())) {
        return false;
      }
    }
    return true;
  }

  /** Fills what the caller left out: id, time, source; the deterministic id from its keys. */
  private ObjectNode envelope(String type, ObjectNode in, String client, String ip) {
    ObjectNode env = Json.object();
    JsonNode keys = in.remove("deterministic_id_keys");
    JsonNode id = in.get("event_id");
    if (keys != null && !keys.isNull()) {
      if (!keys.isObject() || keys.isEmpty()) {
        throw ApiError.badRequest("/deterministic_id_keys must be a non-empty object of key parts");
      }
      if (id != null) {
        throw ApiError.badRequest("give /event_id or /deterministic_id_keys, not both");
      }
      Map<String, Object> parts = new LinkedHashMap<>();
      keys.fields()
          .forEachRemaining(
              e -> {
                if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                  throw ApiError.badRequest(
                      "/deterministic_id_keys/" + e.getKey() + " must be a string or a number");
                }
                parts.put(
                    e.getKey(),
                    e.getValue().isTextual()
                        ? e.getValue().asText()
                        : Json.MAPPER.convertValue(e.getValue(), Object.class));
              });
      env.put("event_id", EventIds.deterministic(type, parts).toString());
    } else {
      env.put("event_id", id == null ? UUID.randomUUID().toString() : id.asText());
    }
    env.put("event_type", type);
    env.set(
        "timestamp",
        in.has("timestamp")
            ? in.get("timestamp")
            : Json.MAPPER.valueToTree(Instant.now().toString()));
    env.put(
        "version", in.has("version") ? in.get("version").asText() : EventEnvelope.DEFAULT_VERSION);
    if (in.has("source")) {
      env.set("source", in.get("source"));
    } else {
      ObjectNode source = Json.object();
      source.put("host", ip);
      source.put("type", TriggerType.HOOK.value());
      source.put("app", "bloodbank-server");
      ObjectNode meta = source.putObject("meta");
      meta.put("gateway", "http");
      meta.put("client", client);
      env.set("source", source);
    }
    env.set(
        "correlation_ids",
        in.has("correlation_ids") ? in.get("correlation_ids") : Json.MAPPER.createArrayNode());
    if (in.has("agent_context")) {
      env.set("agent_context", in.get("agent_context"));
    }
    env.set("payload", in.get("payload"));
    return env;
  }

  private void publish(Context ctx, ObjectNode tree) {
    EventCodec codec = bus.codec();
    EventEnvelope<JsonNode> envelope;
    try {
      envelope = codec.decode(tree);
    } catch (MalformedEventException e) {
      throw ApiError.badRequest(e.getMessage());
    }
    List<Violation> violations = validator.check(envelope, mode);
    if (!violations.isEmpty()) {
      if (violations.size() == 1
          && Violation.UNKNOWN_EVENT_TYPE.equals(violations.get(0).keyword())) {
        throw unknownType(envelope.eventType());
      }
      throw new ApiError(
          422,
          "schema_violation",
          violations.size()
              + " violation(s) of the schema of "
              + envelope.eventType()
              + ": "
              + violations.get(0).envelopePointer()
              + " "
              + violations.get(0).message()
              + (violations.size() > 1 ? " (and more, listed in violations)" : ""),
          violations,
          null);
    }
    Health.requireBroker(bus);
    inFlight.incrementAndGet();
    Observation http = httpObservation(ctx);
    CompletableFuture<EventEnvelope<JsonNode>> sent;
    try (Observation.Scope scope = http == null ? null : http.openScope()) {
      sent = publisher.publish(envelope);
    } catch (RuntimeException e) {
      inFlight.decrementAndGet();
      ApiError mapped = map(e);
      stop(http, mapped.status(), e);
      throw mapped;
    }
    ctx.future(
        () ->
            sent.handle(
                    (ok, err) -> {
                      if (err == null) {
                        ObjectNode out = Json.object();
                        out.put("status", "published");
                        out.put("event_id", ok.eventId().toString());
                        out.put("event_type", ok.eventType());
                        out.set("correlation_ids", Json.ids(ok.correlationIds()));
                        Json.send(ctx, 202, out);
                        stop(http, 202, null);
                      } else {
                        ApiError e = map(err);
                        if (e.code().equals("broker_timeout")
                            || e.code().equals("broker_unreachable")) {
                          e = e.withEventId(envelope.eventId().toString());
                        }
                        Gateway.sendError(ctx, e);
                        stop(http, e.status(), err);
                      }
                      return null;
                    })
                .whenComplete((x, y) -> inFlight.decrementAndGet()));
  }

  private static ApiError map(Throwable t) {
    Throwable e = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    if (e instanceof ApiError a) {
      return a;
    }
    if (e instanceof EventTooLargeException big) {
      return new ApiError(
          413,
          "too_large",
          "the event is " + big.size() + " bytes encoded; the limit is " + big.limit());
    }
    if (e instanceof UnroutableEventException) {
      return new ApiError(
          503,
          "unroutable",
          "no queue is bound for this event: " + e.getMessage(),
          List.of(),
          null);
    }
    if (e instanceof PublishException p) {
      return switch (p.kind()) {
        case TIMED_OUT ->
            ApiError.unavailable(
                "broker_timeout",
                "the broker did not confirm the event in time: " + p.getMessage());
        case NACKED ->
            ApiError.unavailable("broker_nack", "the broker refused the event: " + p.getMessage());
        case CONNECTION_LOST ->
            ApiError.unavailable(
                "broker_unreachable", "the connection to the broker was lost before the confirm");
        case CLOSED -> ApiError.unavailable("shutting_down", "the server is shutting down");
      };
    }
    return new ApiError(500, "internal", "publishing failed: " + e);
  }

  private ApiError unknownType(String type) {
    return ApiError.notFound(
        "unknown_event_type",
        "unknown event type '"
            + type
            + "': it is not in the catalog (GET /events lists "
            + bus.registry().all().size()
            + "); POST /events/custom publishes outside the catalog when the server's validation"
            + " is permissive");
  }

  /** Reads and parses the body, refusing more than the limit before reading it all. */
  private JsonNode readBody(Context ctx) {
    long declared = ctx.req().getContentLengthLong();
    if (declared > maxBodyBytes) {
      throw tooLarge(declared);
    }
    byte[] body;
    try (InputStream in = ctx.req().getInputStream()) {
      body = in.readNBytes(maxBodyBytes + 1);
    } catch (IOException e) {
      throw ApiError.badRequest("cannot read the request body: " + e.getMessage());
    }
    if (body.length > maxBodyBytes) {
      throw tooLarge(-1);
    }
    if (body.length == 0) {
      throw ApiError.badRequest("the request body is empty; send a JSON object");
    }
    JsonNode node;
    try {
      // The codec's parse: its limits (depth, string and name lengths), duplicate keys refused,
      // invalid UTF-8 named; the tree then goes to the codec as it is, never re-read.
      node = bus.codec().parse(body);
    } catch (MalformedEventException e) {
      throw ApiError.badRequest("the body is not valid JSON: " + e.getMessage());
    }
    if (!node.isObject()) {
      throw ApiError.badRequest(
          "the body must be a JSON object, was "
              + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
    }
    return node;
  }

  private ApiError tooLarge(long declared) {
    return new ApiError(
        413,
        "too_large",
        "the request body "
            + (declared >= 0 ? "is " + declared + " bytes" : "is larger than the limit")
            + "; the limit is "
            + maxBodyBytes
            + " bytes");
  }
}
