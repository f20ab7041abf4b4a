package dev.bloodbank;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.jsontype.BasicPolymorphicTypeValidator;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.bloodbank.internal.LogSafe;
import dev.bloodbank.internal.Rfc3339;
import java.io.ByteArrayInputStream;
import java.io.CharConversionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Encodes and decodes {@link EventEnvelope}s in the JSON wire format of the Python Bloodbank
 * services.
 *
 * <p>Encoding writes the v2 envelope with its fields in the Python order and every field present
 * (absent optional values as {@code null}). Decoding reads v2 envelopes and legacy v1 ones ({@code
 * id}, {@code event_type}, {@code source} as a string, {@code timestamp}, {@code data}, {@code
 * correlation_id}, {@code session_id}), tolerates unknown fields, and is hardened for untrusted
 * input: {@link DecodeLimits} bound size, depth and lengths, duplicate keys and invalid UTF-8 are
 * rejected, and type information is never taken from the input. Every fault is a {@link
 * MalformedEventException} naming the line and column or the JSON pointer.
 *
 * <p>Legacy v1 documents become v2 envelopes: {@code id} → {@code event_id}, {@code data} → {@code
 * payload}, {@code correlation_id} → {@code correlation_ids}, the source string → {@code
 * source.app} (with host {@code unknown} and type {@code manual}), and {@code session_id} → {@code
 * source.meta.session_id}.
 *
 * <p>Thread-safe; create one and share it.
 */
public final class EventCodec {
  private static final DateTimeFormatter ISO = DateTimeFormatter.ISO_DATE_TIME;

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long HIGH_BITS = 0x8080808080808080L;

  private final DecodeLimits limits;
  private final ObjectMapper treeReader;
  private final ObjectMapper fastTreeReader;
  private final ObjectMapper mapper;

  private EventCodec(DecodeLimits limits, ObjectMapper payloadMapper) {
    this.limits = limits;
    this.mapper = payloadMapper;
    StreamReadConstraints constraints =
        StreamReadConstraints.builder()
            .maxDocumentLength(limits.maxDocumentBytes())
            .maxNestingDepth(limits.maxNestingDepth())
            .maxStringLength(limits.maxStringLength())
            .maxNumberLength(limits.maxNumberLength())
            .maxNameLength(limits.maxNameLength())
            .build();
    JsonFactory factory =
        JsonFactory.builder()
            .streamReadConstraints(constraints)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    this.treeReader =
        JsonMapper.builder(factory).enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
    // The parser's duplicate detection keeps a hash set of the names of every object; the tree
    // already has them in its maps, so the fast reader lets the tree refuse duplicates instead.
    // Any failure is reported by the strict reader, so errors read as they always did.
    this.fastTreeReader =
        JsonMapper.builder(JsonFactory.builder().streamReadConstraints(constraints).build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .build();
  }

  /**
   * Returns a codec with the default limits and the default payload mapper.
   *
   * @return the codec
   */
  public static EventCodec create() {
    return new EventCodec(DecodeLimits.defaults(), defaultObjectMapper());
  }

  /**
   * Returns a codec with these limits and the default payload mapper.
   *
   * @param limits the decode limits
   * @return the codec
   */
  public static EventCodec create(DecodeLimits limits) {
    return new EventCodec(Objects.requireNonNull(limits, "limits"), defaultObjectMapper());
  }

  /**
   * Returns a codec with these limits that maps payloads with the given mapper.
   *
   * <p>The mapper converts payloads to and from their classes only; documents are always parsed
   * with the codec's own hardened settings. Do not enable default typing on it.
   *
   * @param limits the decode limits
   * @param payloadMapper the mapper for payload classes
   * @return the codec
   */
  public static EventCodec create(DecodeLimits limits, ObjectMapper payloadMapper) {
    return new EventCodec(
        Objects.requireNonNull(limits, "limits"),
        Objects.requireNonNull(payloadMapper, "payloadMapper"));
  }

  /**
   * Returns a new mapper set up as the codec's default: {@code java.time} support with ISO-8601
   * strings, snake_case property names (as the Python services write them) unless a property is
   * named explicitly, unknown properties ignored, and no class-name polymorphism from input.
   *
   * @return a new mapper
   */
  public static ObjectMapper defaultObjectMapper() {
    return JsonMapper.builder()
        .addModule(new JavaTimeModule())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
        .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .polymorphicTypeValidator(BasicPolymorphicTypeValidator.builder().build())
        // After the JavaTimeModule, so that it takes precedence for Instant.
        .addModule(FastInstantDeserializer.module())
        .build();
  }

  /**
   * Returns the decode limits.
   *
   * @return the limits
   */
  public DecodeLimits limits() {
    return limits;
  }

  /**
   * Returns the mapper used for payloads.
   *
   * @return the mapper; do not reconfigure it while the codec is in use
   */
  public ObjectMapper objectMapper() {
    return mapper;
  }

  /**
   * Encodes an envelope as UTF-8 JSON in the v2 wire format.
   *
   * @param envelope the envelope
   * @return the JSON bytes
   * @throws BloodbankException if the payload cannot be serialized by the mapper
   */
  public byte[] encode(EventEnvelope<?> envelope) {
    return encode(envelope, EnvelopeVersion.V2);
  }

  /**
   * Encodes an envelope as UTF-8 JSON in the given wire format. For {@link EnvelopeVersion#V1}:
   * {@code id}, {@code event_type}, {@code ts} and {@code timestamp} (the Python library's v1 model
   * reads the first, its design documents the second), {@code source} as one string ({@code
   * app/host} as the Python library splits it, or the app or host alone), {@code correlation_id}
   * (the first correlation id, or null), {@code session_id}, {@code project}, {@code working_dir},
   * {@code domain} and {@code tags} when the source's meta holds them (a decoded v1 event keeps
   * them there), and {@code data}. The version, the other correlation ids and the agent context
   * have no place in v1 and are left out.
   *
   * @param envelope the envelope
   * @param version the wire format
   * @return the JSON bytes
   * @throws BloodbankException if the payload cannot be serialized by the mapper
   * @since 0.2.0
   */
  public byte[] encode(EventEnvelope<?> envelope, EnvelopeVersion version) {
    Objects.requireNonNull(version, "version");
    try (ByteArrayBuilder out = new ByteArrayBuilder(mapper.getFactory()._getBufferRecycler())) {
      try (JsonGenerator g = mapper.getFactory().createGenerator(out, JsonEncoding.UTF8)) {
        if (version == EnvelopeVersion.V1) {
          writeV1(g, envelope);
        } else {
          writeEnvelope(g, envelope);
        }
      }
      return out.toByteArray();
    } catch (JsonProcessingException e) {
      throw new BloodbankException(
          "cannot serialize the payload of event '"
              + envelope.eventType()
              + "' ("
              + envelope.payload().getClass().getName()
              + "): "
              + e.getOriginalMessage(),
          e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Decodes a v2 or v1 document with an untyped payload.
   *
   * @param json the UTF-8 document
   * @return the envelope; its payload is the JSON value of {@code payload} (v2) or {@code data}
   *     (v1)
   * @throws MalformedEventException naming what is wrong and where
   */
  public EventEnvelope<JsonNode> decode(byte[] json) {
    return fromTree(parse(json));
  }

  /**
   * Decodes a v2 or v1 document that is already a JSON tree, without writing and re-reading it. The
   * tree's size and depth are not checked here: parse untrusted input with {@link #parse(byte[])}
   * first, which applies the codec's limits.
   *
   * @param tree the document; the envelope's payload is its {@code payload} node itself, not a copy
   * @return the envelope
   * @throws MalformedEventException naming what is wrong and where
   * @since 0.2.0
   */
  public EventEnvelope<JsonNode> decode(JsonNode tree) {
    return fromTree(tree);
  }

  /**
   * Decodes a v2 or v1 document and maps its payload to a class.
   *
   * @param json the UTF-8 document
   * @param payloadType the payload class
   * @param <T> the payload type
   * @return the envelope
   * @throws MalformedEventException naming what is wrong and where; payload faults carry pointers
   *     under {@code /payload}
   */
  public <T> EventEnvelope<T> decode(byte[] json, Class<T> payloadType) {
    return convertPayload(decode(json), payloadType);
  }

  /**
   * Maps the untyped payload of a decoded envelope to a class.
   *
   * @param envelope an envelope from {@link #decode(byte[])}
   * @param payloadType the payload class; {@code JsonNode.class} returns the envelope as it is
   * @param <T> the payload type
   * @return the typed envelope
   * @throws MalformedEventException with a pointer under {@code /payload} when the payload does not
   *     fit the class
   */
  @SuppressWarnings("unchecked")
  public <T> EventEnvelope<T> convertPayload(
      EventEnvelope<? extends JsonNode> envelope, Class<T> payloadType) {
    if (payloadType.isInstance(envelope.payload())) {
      return (EventEnvelope<T>) envelope;
    }
    T payload;
    try {
      payload = mapper.treeToValue(envelope.payload(), payloadType);
    } catch (JsonProcessingException e) {
      throw payloadFault(e, payloadType);
    } catch (IllegalArgumentException e) {
      throw MalformedEventException.newAtPointer(
          MalformedEventException.Kind.INVALID_VALUE,
          "/payload",
          LogSafe.escape(String.valueOf(e.getMessage())),
          e);
    }
    if (payload == null) {
      throw MalformedEventException.newAtPointer(
          MalformedEventException.Kind.MISSING_FIELD, "/payload", "payload is null", null);
    }
    return envelope.withPayload(payload);
  }

  /**
   * Parses a document into a JSON tree under the codec's limits, without interpreting it.
   *
   * @param json the UTF-8 document
   * @return the root node
   * @throws MalformedEventException for syntax errors, invalid UTF-8, duplicate keys and exceeded
   *     limits, naming line and column
   */
  public JsonNode parse(byte[] json) {
    if (json.length > limits.maxDocumentBytes()) {
      throw MalformedEventException.newAtLocation(
          MalformedEventException.Kind.LIMIT_EXCEEDED,
          String.format(
              "document is %d bytes, over the limit of %d bytes",
              json.length, limits.maxDocumentBytes()),
          -1,
          -1,
          null);
    }
    if (json.length == 0) {
      throw MalformedEventException.newAtLocation(
          MalformedEventException.Kind.SYNTAX, "document is empty", -1, -1, null);
    }
    JsonNode fast;
    try {
      fast = fastTreeReader.readTree(json);
    } catch (IOException | RuntimeException e) {
      fast = null;
    }
    if (fast != null && !fast.isMissingNode()) {
      int bad = looksLikeUtf8(json) ? invalidUtf8At(json) : -1;
      if (bad >= 0) {
        throw invalidUtf8(json, bad);
      }
      return fast;
    }
    return parseStrictly(json);
  }

  /**
   * The reference parse, with the parser's own duplicate detection: its exceptions are the codec's
   * error messages. Package-private for tests.
   */
  JsonNode parseStrictly(byte[] json) {
    try (InputStream in = new ByteArrayInputStream(json)) {
      JsonNode root = treeReader.readTree(in);
      if (root == null || root.isMissingNode()) {
        throw MalformedEventException.newAtLocation(
            MalformedEventException.Kind.SYNTAX, "document is empty", -1, -1, null);
      }
      // The parser reports most bad UTF-8 itself (with its position); it lets overlong forms,
      // encoded surrogates and code points above U+10FFFF through, so check what it accepted.
      int bad = looksLikeUtf8(json) ? invalidUtf8At(json) : -1;
      if (bad >= 0) {
        throw invalidUtf8(json, bad);
      }
      return root;
    } catch (StreamConstraintsException e) {
      throw located(MalformedEventException.Kind.LIMIT_EXCEEDED, e);
    } catch (CharConversionException e) {
      throw MalformedEventException.newAtLocation(
          MalformedEventException.Kind.INVALID_ENCODING,
          "invalid UTF-8: " + LogSafe.escape(String.valueOf(e.getMessage())),
          -1,
          -1,
          e);
    } catch (JsonProcessingException e) {
      String msg = String.valueOf(e.getOriginalMessage());
      MalformedEventException.Kind kind =
          msg.contains("Invalid UTF-8")
              ? MalformedEventException.Kind.INVALID_ENCODING
              : msg.startsWith("Duplicate field")
                  ? MalformedEventException.Kind.DUPLICATE_KEY
                  : MalformedEventException.Kind.SYNTAX;
      throw located(kind, e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static MalformedEventException invalidUtf8(byte[] json, int offset) {
    int line = 1;
    int lineStart = 0;
    for (int i = 0; i < offset; i++) {
      if (json[i] == '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return MalformedEventException.newAtLocation(
        MalformedEventException.Kind.INVALID_ENCODING,
        String.format(
            "invalid UTF-8: byte 0x%02x at byte offset %d starts an overlong, surrogate,"
                + " out-of-range or truncated sequence",
            json[offset] & 0xff, offset),
        line,
        offset - lineStart + 1,
        null);
  }

  /** UTF-16 and UTF-32 documents (a BOM or a zero byte up front) are left to the parser. */
  private static boolean looksLikeUtf8(byte[] b) {
    if (b.length >= 2
        && ((b[0] == (byte) 0xFE && b[1] == (byte) 0xFF)
            || (b[0] == (byte) 0xFF && b[1] == (byte) 0xFE))) {
      return false;
    }
    for (int i = 0; i < Math.min(4, b.length); i++) {
      if (b[i] == 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Returns the offset of the first byte that does not start a well-formed UTF-8 sequence, or -1.
   * Jackson lets overlong forms (e.g. {@code C0 AF} for '/'), encoded surrogates and code points
   * above U+10FFFF through; Python's json does not, and neither do we.
   */
  static int invalidUtf8At(byte[] b) {
    int i = 0;
    int n = b.length;
    while (i < n) {
      // Eight ASCII bytes at a time: events are mostly ASCII.
      while (i + 8 <= n && ((long) LONGS.get(b, i) & HIGH_BITS) == 0) {
        i += 8;
      }
      if (i >= n) {
        break;
      }
      int c = b[i] & 0xff;
      if (c < 0x80) {
        i++;
        continue;
      }
      int len;
      int cp;
      if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
      } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
      } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
      } else {
        return i;
      }
      if (i + len > n) {
        return i;
      }
      for (int k = 1; k < len; k++) {
        int cc = b[i + k] & 0xff;
        if ((cc & 0xC0) != 0x80) {
          return i;
        }
        cp = (cp << 6) | (cc & 0x3F);
      }
      if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
          || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
        return i;
      }
      i += len;
    }
    return -1;
  }

  private static MalformedEventException located(
      MalformedEventException.Kind kind, JsonProcessingException e) {
    JsonLocation loc = e.getLocation();
    int line = loc != null ? loc.getLineNr() : -1;
    int column = loc != null ? loc.getColumnNr() : -1;
    String detail = LogSafe.escape(String.valueOf(e.getOriginalMessage()));
    if (e instanceof JsonParseException && kind == MalformedEventException.Kind.SYNTAX) {
      detail = "malformed JSON: " + detail;
    }
    return MalformedEventException.newAtLocation(kind, detail, line, column, e);
  }

  private MalformedEventException payloadFault(JsonProcessingException e, Class<?> type) {
    StringBuilder pointer = new StringBuilder("/payload");
    if (e instanceof JsonMappingException) {
      for (JsonMappingException.Reference ref : ((JsonMappingException) e).getPath()) {
        pointer.append('/');
        if (ref.getFieldName() != null) {
          pointer.append(ref.getFieldName().replace("~", "~0").replace("/", "~1"));
        } else {
          pointer.append(ref.getIndex());
        }
      }
    }
    MalformedEventException.Kind kind =
        e instanceof InvalidFormatException
            ? MalformedEventException.Kind.INVALID_VALUE
            : e instanceof MismatchedInputException
                ? MalformedEventException.Kind.WRONG_TYPE
                : MalformedEventException.Kind.INVALID_VALUE;
    String detail =
        "does not fit "
            + type.getSimpleName()
            + ": "
            + LogSafe.escape(String.valueOf(e.getOriginalMessage()));
    return MalformedEventException.newAtPointer(kind, pointer.toString(), detail, e);
  }

  // ---- tree → envelope -------------------------------------------------------------------

  private EventEnvelope<JsonNode> fromTree(JsonNode root) {
    if (!root.isObject()) {
      throw MalformedEventException.newAtPointer(
          MalformedEventException.Kind.WRONG_TYPE,
          "",
          "an event must be a JSON object, was " + nodeType(root),
          null);
    }
    if (!root.has("event_id") && root.has("id")) {
      return fromV1(root);
    }
    EventEnvelope.Builder<JsonNode> b =
        EventEnvelope.<JsonNode>builder()
            .withEventId(uuid(required(root, "event_id", ""), "/event_id"))
            .withEventType(eventType(required(root, "event_type", ""), "/event_type"))
            .withTimestamp(instant(required(root, "timestamp", ""), "/timestamp"))
            .withSource(source(required(root, "source", ""), "/source"))
            .withPayload(required(root, "payload", ""));
    JsonNode version = optional(root, "version");
    if (version != null) {
      b.withVersion(text(version, "/version"));
    }
    JsonNode correlations = optional(root, "correlation_ids");
    if (correlations != null) {
      b.withCorrelationIds(uuids(correlations, "/correlation_ids"));
    }
    JsonNode agent = optional(root, "agent_context");
    if (agent != null) {
      b.withAgentContext(agentContext(agent, "/agent_context"));
    }
    return b.build();
  }

  private EventEnvelope<JsonNode> fromV1(JsonNode root) {
    JsonNode sourceNode = optional(root, "source");
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("envelope", "v1");
    for (String field : List.of("session_id", "project", "working_dir", "domain")) {
      JsonNode v = optional(root, field);
      if (v != null) {
        meta.put(field, text(v, "/" + field));
      }
    }
    JsonNode tags = optional(root, "tags");
    if (tags != null) {
      if (!tags.isArray()) {
        throw wrongType("/tags", "an array of strings", tags);
      }
      List<String> list = new ArrayList<>(tags.size());
      for (int i = 0; i < tags.size(); i++) {
        list.add(text(tags.get(i), "/tags/" + i));
      }
      meta.put("tags", list);
    }
    // As the Python library reads a source string: "http/127.0.0.1" is app "http" on that host.
    String host = "unknown";
    String app = null;
    if (sourceNode != null) {
      String text = text(sourceNode, "/source");
      int slash = text.indexOf('/');
      if (slash > 0 && slash < text.length() - 1) {
        app = text.substring(0, slash);
        host = text.substring(slash + 1);
      } else {
        app = text;
      }
    }
    Source source = new Source(host, TriggerType.MANUAL, app, meta);
    JsonNode data = optional(root, "data");
    // The Python library's v1 model names the time "ts"; its design documents, "timestamp".
    String timeField = root.has("timestamp") || !root.has("ts") ? "timestamp" : "ts";
    EventEnvelope.Builder<JsonNode> b =
        EventEnvelope.<JsonNode>builder()
            .withEventId(uuid(required(root, "id", ""), "/id"))
            .withEventType(eventType(required(root, "event_type", ""), "/event_type"))
            .withTimestamp(instant(required(root, timeField, ""), "/" + timeField))
            .withSource(source)
            .withPayload(data != null ? data : treeReader.createObjectNode());
    JsonNode correlation = optional(root, "correlation_id");
    if (correlation != null) {
      b.withCorrelationId(uuid(correlation, "/correlation_id"));
    }
    return b.build();
  }

  private Source source(JsonNode node, String at) {
    requireObject(node, at);
    String app = null;
    JsonNode appNode = optional(node, "app");
    if (appNode != null) {
      app = text(appNode, at + "/app");
    }
    Map<String, Object> meta = Map.of();
    JsonNode metaNode = optional(node, "meta");
    if (metaNode != null) {
      requireObject(metaNode, at + "/meta");
      meta = toMap((ObjectNode) metaNode);
    }
    return new Source(
        text(required(node, "host", at), at + "/host"),
        TriggerType.of(nonBlank(required(node, "type", at), at + "/type")),
        app,
        meta);
  }

  private AgentContext agentContext(JsonNode node, String at) {
    requireObject(node, at);
    AgentContext.Builder b =
        AgentContext.builder(AgentType.of(nonBlank(required(node, "type", at), at + "/type")))
            .withName(optionalText(node, "name", at))
            .withSystemPrompt(optionalText(node, "system_prompt", at))
            .withInstanceId(optionalText(node, "instance_id", at))
            .withMcpServers(texts(node, "mcp_servers", at))
            .withFileReferences(texts(node, "file_references", at))
            .withUrlReferences(texts(node, "url_references", at))
            .withCheckpointId(optionalText(node, "checkpoint_id", at));
    JsonNode code = optional(node, "code_state");
    if (code != null) {
      String cat = at + "/code_state";
      requireObject(code, cat);
      b.withCodeState(
          new CodeState(
              optionalText(code, "repo_url", cat),
              optionalText(code, "branch", cat),
              optionalText(code, "last_commit_hash", cat),
              optionalText(code, "working_diff", cat),
              optionalText(code, "branch_diff", cat),
              texts(code, "dirty_files", cat)));
    }
    return b.build();
  }

  private Map<String, Object> toMap(ObjectNode node) {
    Map<String, Object> map = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = node.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      map.put(e.getKey(), mapper.convertValue(e.getValue(), Object.class));
    }
    return map;
  }

  private static JsonNode required(JsonNode parent, String field, String at) {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      throw MalformedEventException.newAtPointer(
          MalformedEventException.Kind.MISSING_FIELD,
          at + "/" + field,
          "required field '" + field + "' is " + (n == null ? "missing" : "null"),
          null);
    }
    return n;
  }

  private static @Nullable JsonNode optional(JsonNode parent, String field) {
    JsonNode n = parent.get(field);
    return n == null || n.isNull() ? null : n;
  }

  private static @Nullable String optionalText(JsonNode parent, String field, String at) {
    JsonNode n = optional(parent, field);
    return n == null ? null : text(n, at + "/" + field);
  }

  private static List<String> texts(JsonNode parent, String field, String at) {
    JsonNode n = optional(parent, field);
    if (n == null) {
      return List.of();
    }
    String p = at + "/" + field;
    if (!n.isArray()) {
      throw wrongType(p, "an array of strings", n);
    }
    List<String> out = new ArrayList<>(n.size());
    for (int i = 0; i < n.size(); i++) {
      out.add(text(n.get(i), p + "/" + i));
    }
    return out;
  }

  private static void requireObject(JsonNode n, String at) {
    if (!n.isObject()) {
      throw wrongType(at, "an object", n);
    }
  }

  private static String text(JsonNode n, String at) {
    if (!n.isTextual()) {
      throw wrongType(at, "a string", n);
    }
    return n.textValue();
  }

  private static String nonBlank(JsonNode n, String at) {
    String s = text(n, at);
    if (s.isBlank()) {
      throw MalformedEventException.newAtPointer(
          MalformedEventException.Kind.INVALID_VALUE, at, "must not be blank", null);
    }
    return s;
  }

  private static String eventType(JsonNode n, String at) {
    String s = text(n, at);
    try {
      return EventEnvelope.checkEventType(s);
    } catch (IllegalArgumentException e) {
      throw MalformedEventException.newAtPointer(
          MalformedEventException.Kind.INVALID_VALUE, at, e.getMessage(), null);
    }
  }

  private static UUID uuid(JsonNode n, String at) {
    String s = text(n, at);
    // Strict shape: UUID.fromString would read misplaced dashes as other numbers.
    if (isUuidShape(s)) {
      try {
        return UUID.fromString(
            s.length() == 36
                ? s
                : s.replaceFirst("(.{8})(.{4})(.{4})(.{4})(.{12})", "$1-$2-$3-$4-$5"));
      } catch (IllegalArgumentException e) {
        // fall through to the error below
      }
    }
    throw MalformedEventException.newAtPointer(
        MalformedEventException.Kind.INVALID_VALUE,
        at,
        "'" + LogSafe.escape(s) + "' is not a UUID",
        null);
  }

  private static boolean isUuidShape(String s) {
    if (s.length() != 36 && s.length() != 32) {
      return false;
    }
    boolean dashed = s.length() == 36;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean dash = dashed && (i == 8 || i == 13 || i == 18 || i == 23);
      if (dash ? c != '-' : Character.digit(c, 16) < 0) {
        return false;
      }
    }
    return true;
  }

  private static List<UUID> uuids(JsonNode n, String at) {
    if (!n.isArray()) {
      throw wrongType(at, "an array of UUID strings", n);
    }
    List<UUID> out = new ArrayList<>(n.size());
    for (int i = 0; i < n.size(); i++) {
      out.add(uuid(n.get(i), at + "/" + i));
    }
    return out;
  }

  private static Instant instant(JsonNode n, String at) {
    String s = text(n, at);
    if (s.length() > 11 && s.charAt(10) == ' ' && Character.isDigit(s.charAt(11))) {
      // Python's str(datetime): "2026-01-27 10:00:00.123456[+00:00]", a space for the 'T'.
      s = s.substring(0, 10) + 'T' + s.substring(11);
    }
    Instant fast = Rfc3339.parse(s, true);
    if (fast != null) {
      return fast;
    }
    try {
      TemporalAccessor t = ISO.parse(s);
      if (t.isSupported(ChronoField.OFFSET_SECONDS)) {
        return Instant.from(t);
      }
      // Python's datetime.utcnow().isoformat() has no offset; such times are UTC.
      return LocalDateTime.from(t).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      throw MalformedEventException.newAtPointer(
          MalformedEventException.Kind.INVALID_VALUE,
          at,
          "'" + LogSafe.escape(s) + "' is not an ISO-8601 date-time",
          e);
    }
  }

  private static MalformedEventException wrongType(String at, String expected, JsonNode actual) {
    return MalformedEventException.newAtPointer(
        MalformedEventException.Kind.WRONG_TYPE,
        at,
        "expected " + expected + ", was " + nodeType(actual),
        null);
  }

  private static String nodeType(JsonNode n) {
    return n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
  }

  // ---- envelope → JSON -------------------------------------------------------------------

  private void writeEnvelope(JsonGenerator g, EventEnvelope<?> e) throws IOException {
    g.writeStartObject();
    g.writeStringField("event_id", e.eventId().toString());
    g.writeStringField("event_type", e.eventType());
    g.writeStringField("timestamp", Rfc3339.format(e.timestamp()));
    g.writeStringField("version", e.version());
    Source s = e.source();
    g.writeObjectFieldStart("source");
    g.writeStringField("host", s.host());
    g.writeStringField("type", s.type().value());
    writeNullableString(g, "app", s.app());
    g.writeFieldName("meta");
    if (s.meta().isEmpty() && !mapper.isEnabled(SerializationFeature.INDENT_OUTPUT)) {
      // What the mapper writes for it, without setting up a serialization for nothing.
      g.writeStartObject();
      g.writeEndObject();
    } else {
      mapper.writeValue(g, s.meta());
    }
    g.writeEndObject();
    g.writeArrayFieldStart("correlation_ids");
    for (UUID id : e.correlationIds()) {
      g.writeString(id.toString());
    }
    g.writeEndArray();
    AgentContext a = e.agentContext();
    if (a == null) {
      g.writeNullField("agent_context");
    } else {
      writeAgentContext(g, a);
    }
    g.writeFieldName("payload");
    mapper.writeValue(g, e.payload());
    g.writeEndObject();
  }

  private static final List<String> V1_META = List.of("project", "working_dir", "domain");

  private void writeV1(JsonGenerator g, EventEnvelope<?> e) throws IOException {
    g.writeStartObject();
    g.writeStringField("id", e.eventId().toString());
    g.writeStringField("event_type", e.eventType());
    String ts = Rfc3339.format(e.timestamp());
    g.writeStringField("ts", ts);
    g.writeStringField("timestamp", ts);
    Source s = e.source();
    String host = s.host();
    boolean knownHost = !host.isEmpty() && !host.equals("unknown");
    String source = s.app() == null ? host : knownHost ? s.app() + "/" + host : s.app();
    g.writeStringField("source", source);
    List<UUID> parents = e.correlationIds();
    writeNullableString(g, "correlation_id", parents.isEmpty() ? null : parents.get(0).toString());
    Object session = s.meta().get("session_id");
    if (session != null) {
      g.writeStringField("session_id", session.toString());
    }
    for (String field : V1_META) {
      Object v = s.meta().get(field);
      if (v != null) {
        g.writeStringField(field, v.toString());
      }
    }
    Object tags = s.meta().get("tags");
    g.writeFieldName("tags");
    mapper.writeValue(g, tags instanceof List ? tags : List.of());
    g.writeFieldName("data");
    mapper.writeValue(g, e.payload());
    g.writeEndObject();
  }

  private static void writeAgentContext(JsonGenerator g, AgentContext a) throws IOException {
    g.writeObjectFieldStart("agent_context");
    g.writeStringField("type", a.type().value());
    writeNullableString(g, "name", a.name());
    writeNullableString(g, "system_prompt", a.systemPrompt());
    writeNullableString(g, "instance_id", a.instanceId());
    writeStrings(g, "mcp_servers", a.mcpServers());
    writeStrings(g, "file_references", a.fileReferences());
    writeStrings(g, "url_references", a.urlReferences());
    CodeState c = a.codeState();
    if (c == null) {
      g.writeNullField("code_state");
    } else {
      g.writeObjectFieldStart("code_state");
      writeNullableString(g, "repo_url", c.repoUrl());
      writeNullableString(g, "branch", c.branch());
      writeNullableString(g, "last_commit_hash", c.lastCommitHash());
      writeNullableString(g, "working_diff", c.workingDiff());
      writeNullableString(g, "branch_diff", c.branchDiff());
      writeStrings(g, "dirty_files", c.dirtyFiles());
      g.writeEndObject();
    }
    writeNullableString(g, "checkpoint_id", a.checkpointId());
    g.writeEndObject();
  }

  private static void writeNullableString(JsonGenerator g, String field, @Nullable String value)
      throws IOException {
    if (value == null) {
      g.writeNullField(field);
    } else {
      g.writeStringField(field, value);
    }
  }

  private static void writeStrings(JsonGenerator g, String field, List<String> values)
      throws IOException {
    g.writeArrayFieldStart(field);
    for (String v : values) {
      g.writeString(v);
    }
    g.writeEndArray();
  }
}
