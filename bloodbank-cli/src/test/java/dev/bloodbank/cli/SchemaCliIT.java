package dev.bloodbank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Publisher;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.validation.ValidationMode;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code bb schema diff} and {@code bb schema check}, run in-process against the real RabbitMQ. */
@ExtendWith(BrokerExtension.class)
class SchemaCliIT {
  private static final EventCodec CODEC = EventCodec.create();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PROMPT = "dev/bloodbank/schemas/llm/prompt.v1.schema.json";

  @TempDir Path dir;

  private static BbIT.Result bb(BrokerExtension.Broker broker, String... args) {
    return BbIT.bb(broker, args);
  }

  /** The catalog's llm.prompt schema, as a tree to change. */
  private static ObjectNode promptSchema() throws Exception {
    try (InputStream in = SchemaCliIT.class.getClassLoader().getResourceAsStream(PROMPT)) {
      assertThat(in).as(PROMPT).isNotNull();
      return (ObjectNode) JSON.readTree(in);
    }
  }

  /** The catalog's llm.prompt schema with {@code model} required. */
  private static ObjectNode modelRequired() throws Exception {
    ObjectNode s = promptSchema();
    ((ArrayNode) s.get("required")).add("model");
    return s;
  }

  private Path write(String name, Object content) throws Exception {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content instanceof String str ? str : JSON.writeValueAsString(content));
    return p;
  }

  private static List<String> lines(String s) {
    return s.strip().lines().toList();
  }

  @Test
  void diffOfCompatibleFilesExitsZeroWithAVerdictPerDirection(BrokerExtension.Broker broker)
      throws Exception {
    ObjectNode old = promptSchema();
    ObjectNode now = promptSchema();
    now.put("description", "Reworded: annotations do not count.");
    ((ObjectNode) ((ObjectNode) now.get("properties")).get("tags")).put("description", "Tags.");

    BbIT.Result r =
        bb(
            broker,
            "schema",
            "diff",
            write("old.json", old).toString(),
            write("new.json", now) + "");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(lines(r.out())).containsExactly("BACKWARD: compatible", "FORWARD: compatible");

    BbIT.Result same =
        bb(
            broker,
            "schema",
            "diff",
            dir.resolve("old.json").toString(),
            "" + dir.resolve("old.json"));
    assertThat(same.code()).isZero();
  }

  @Test
  void diffListsEachIncompatibilityWithRuleAndPointerAndExitsOne(BrokerExtension.Broker broker)
      throws Exception {
    ObjectNode now = modelRequired();
    ObjectNode props = ((ObjectNode) now.get("properties"));
    ((ObjectNode) props.get("temperature")).put("maximum", 1);
    ((ObjectNode) props.get("max_tokens")).remove("minimum");
    Path old = write("old.json", promptSchema());
    Path candidate = write("new.json", now);

    BbIT.Result full = bb(broker, "schema", "diff", old.toString(), candidate.toString());
    assertThat(full.code()).isEqualTo(1);
    assertThat(lines(full.out()))
        .containsExactlyInAnyOrder(
            "required-added at /model: 'model' is now required (breaks BACKWARD)",
            "maximum-lowered at /temperature: maximum 2 -> maximum 1 (breaks BACKWARD)",
            "minimum-lowered at /max_tokens: minimum 1 -> none (breaks FORWARD)",
            "BACKWARD: 2 incompatibilities",
            "FORWARD: 1 incompatibility");

    BbIT.Result forward =
        bb(broker, "schema", "diff", old.toString(), candidate.toString(), "--level", "forward");
    assertThat(forward.code()).isEqualTo(1);
    assertThat(forward.out()).doesNotContain("BACKWARD").contains("FORWARD: 1 incompatibility");

    BbIT.Result none =
        bb(broker, "schema", "diff", old.toString(), candidate.toString(), "--level", "NONE");
    assertThat(none.code()).isZero();

    BbIT.Result json = bb(broker, "schema", "diff", old.toString(), candidate.toString(), "--json");
    assertThat(json.code()).isEqualTo(1);
    JsonNode report = JSON.readTree(json.out());
    assertThat(report.get("level").asText()).isEqualTo("FULL");
    assertThat(report.get("compatible").asBoolean()).isFalse();
    assertThat(report.at("/directions/BACKWARD/incompatibilities").asInt()).isEqualTo(2);
    assertThat(report.at("/directions/FORWARD/compatible").asBoolean()).isFalse();
    List<String> found = new ArrayList<>();
    report
        .get("incompatibilities")
        .forEach(
            i ->
                found.add(
                    i.get("direction").asText()
                        + " "
                        + i.get("rule").asText()
                        + " "
                        + i.get("pointer").asText()));
    assertThat(found)
        .containsExactlyInAnyOrder(
            "BACKWARD required-added /model",
            "BACKWARD maximum-lowered /temperature",
            "FORWARD minimum-lowered /max_tokens");
  }

  @Test
  void diffResolvesRefsNextToTheFilesThenInTheCatalog(BrokerExtension.Broker broker)
      throws Exception {
    // Each version refers to a document beside it; the old one's is found only next to it.
    Path old =
        write(
            "a/old.json",
            "{\"type\":\"object\",\"properties\":{\"s\":{\"$ref\":\"defs.json\"},"
                + "\"src\":{\"$ref\":\"common/source.v1.schema.json\"}}}");
    write("a/defs.json", "{\"type\":\"string\"}");
    Path now =
        write(
            "b/new.json",
            "{\"type\":\"object\",\"properties\":{\"s\":{\"$ref\":\"defs2.json\"},"
                + "\"src\":{\"$ref\":\"common/source.v1.schema.json\"}}}");
    write("b/defs2.json", "{\"type\":\"integer\"}");

    BbIT.Result r = bb(broker, "schema", "diff", old.toString(), now.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.out())
        .contains("type-changed at /s: ")
        .contains("BACKWARD: 1 incompatibility")
        .contains("FORWARD: 1 incompatibility");

    Path dangling =
        write(
            "c/new.json", "{\"type\":\"object\",\"properties\":{\"s\":{\"$ref\":\"gone.json\"}}}");
    BbIT.Result missing = bb(broker, "schema", "diff", old.toString(), dangling.toString());
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err())
        .contains("$ref to https://schemas.bloodbank.dev/gone.json: not found")
        .contains(dir.resolve("c").toString());
  }

  @Test
  void badFilesAreOneLineNamingTheFile(BrokerExtension.Broker broker) throws Exception {
    Path good = write("good.json", promptSchema());
    Path absent = dir.resolve("absent.json");
    BbIT.Result r = bb(broker, "schema", "diff", absent.toString(), good.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(lines(r.err())).containsExactly("bb: " + absent + ": no such file");

    Path broken = write("broken.json", "{\n  \"type\": \"object\",\n  \"required\": [\"a\",]\n}");
    BbIT.Result bad = bb(broker, "schema", "diff", good.toString(), broken.toString());
    assertThat(bad.code()).isEqualTo(1);
    assertThat(lines(bad.err())).hasSize(1);
    assertThat(bad.err()).startsWith("bb: " + broken + ":3:").contains("not JSON");

    Path array = write("array.json", "[1, 2]");
    BbIT.Result notSchema = bb(broker, "schema", "diff", good.toString(), array.toString());
    assertThat(notSchema.code()).isEqualTo(1);
    assertThat(notSchema.err()).contains(array + ": not a JSON Schema");

    assertThat(
            bb(broker, "schema", "diff", good.toString(), good.toString(), "--level", "sideways")
                .code())
        .isEqualTo(2);
    assertThat(bb(broker, "schema", "diff", good.toString()).code()).isEqualTo(2);
  }

  // ---- check --------------------------------------------------------------------------------

  /** Declares a unique archive through {@code bb archive init}. */
  private static String archive(BrokerExtension.Broker broker) {
    String q = broker.queueName("archive");
    BbIT.Result init = bb(broker, "archive", "init", "--queue", q, "--max-age", "1h");
    assertThat(init.code()).as(init.err()).isZero();
    return q;
  }

  private static JsonNode json(String s) throws Exception {
    return JSON.readTree(s);
  }

  /** Publishes without validation, so events that break the schema get in. */
  private static List<EventEnvelope<JsonNode>> publish(
      BrokerExtension.Broker broker, List<EventEnvelope<JsonNode>> events) throws Exception {
    try (Bloodbank bus = broker.connect();
        Publisher p =
            bus.publisher(PublisherOptions.builder().validation(ValidationMode.SKIP).build())) {
      for (EventEnvelope<JsonNode> e : events) {
        p.publish(e).get(10, TimeUnit.SECONDS);
      }
    }
    return events;
  }

  /** Publishes an event under a routing key other than its event type. */
  private static void publishRaw(
      BrokerExtension.Broker broker, String routingKey, EventEnvelope<JsonNode> e)
      throws Exception {
    var ch = broker.raw();
    ch.confirmSelect();
    ch.basicPublish(
        broker.exchange(),
        routingKey,
        new AMQP.BasicProperties.Builder().contentType("application/json").build(),
        CODEC.encode(e));
    ch.waitForConfirmsOrDie(10_000);
  }

  private static EventEnvelope<JsonNode> event(String type, String payload) throws Exception {
    return EventEnvelope.builder(type, json(payload)).build();
  }

  @Test
  void checkFindsExactlyThePlantedEventAndIgnoresOtherTypes(BrokerExtension.Broker broker)
      throws Exception {
    String q = archive(broker);
    EventEnvelope<JsonNode> valid =
        event("llm.prompt", "{\"provider\":\"anthropic\",\"model\":\"claude\",\"prompt\":\"hi\"}");
    // Valid under the catalog schema; the candidate makes model required.
    EventEnvelope<JsonNode> planted =
        event("llm.prompt", "{\"provider\":\"anthropic\",\"prompt\":\"no model\",\"tags\":[]}");
    publish(broker, List.of(valid, planted));
    // Another type, though routed as llm.prompt: not checked.
    EventEnvelope<JsonNode> other = event("test.other", "{\"provider\":\"p\",\"prompt\":\"x\"}");
    publishRaw(broker, "llm.prompt", other);
    // An llm.prompt routed elsewhere: checked.
    EventEnvelope<JsonNode> elsewhere =
        event("llm.prompt", "{\"provider\":\"p\",\"model\":\"m\",\"prompt\":\"routed away\"}");
    publishRaw(broker, "elsewhere.llm", elsewhere);
    Path candidate = write("prompt.candidate.json", modelRequired());

    BbIT.Result r =
        bb(
            broker,
            "schema",
            "check",
            "llm.prompt",
            "--against-archive",
            "--first",
            "--queue",
            q,
            "--schema",
            candidate.toString());
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
    assertThat(r.out())
        .contains(planted.eventId() + "  offset 1  " + planted.timestamp() + "  would fail:")
        .contains("  /model: ")
        .doesNotContain(valid.eventId().toString())
        .doesNotContain(other.eventId().toString())
        .doesNotContain(elsewhere.eventId().toString());
    assertThat(lines(r.out()).get(lines(r.out()).size() - 1))
        .startsWith(
            "checked 3 events of llm.prompt from the first event kept, 1 would fail "
                + candidate
                + " (4 read from '"
                + q
                + "')");
    assertThat(r.err()).doesNotContain("\r");

    BbIT.Result asJson =
        bb(
            broker,
            "schema",
            "check",
            "llm.prompt",
            "--against-archive",
            "--since",
            "1h",
            "--queue",
            q,
            "--schema",
            candidate.toString(),
            "--json");
    assertThat(asJson.code()).as(asJson.err()).isEqualTo(1);
    JsonNode doc = json(asJson.out());
    assertThat(doc.get("checked").asLong()).isEqualTo(3);
    assertThat(doc.get("failed").asLong()).isEqualTo(1);
    assertThat(doc.get("failures")).hasSize(1);
    JsonNode f = doc.get("failures").get(0);
    assertThat(f.get("event_id").asText()).isEqualTo(planted.eventId().toString());
    assertThat(f.get("offset").asLong()).isEqualTo(1);
    assertThat(f.at("/violations/0/pointer").asText()).isEqualTo("/model");
    assertThat(f.at("/violations/0/keyword").asText()).isEqualTo("required");

    // Against the catalog schema in use, all of them pass.
    BbIT.Result current =
        bb(broker, "schema", "check", "llm.prompt", "--against-archive", "--queue", q);
    assertThat(current.code()).as(current.out() + current.err()).isZero();
    assertThat(current.out())
        .contains("checked 3 events of llm.prompt since ")
        .contains("(7d ago), 0 would fail the catalog schema");
  }

  @Test
  void checkAgainstTheCatalogFindsEventsThatGotInUnvalidatedAndHonoursTheLimit(
      BrokerExtension.Broker broker) throws Exception {
    String q = archive(broker);
    EventEnvelope<JsonNode> hot =
        event("llm.prompt", "{\"provider\":\"p\",\"prompt\":\"x\",\"temperature\":3}");
    EventEnvelope<JsonNode> ok = event("llm.prompt", "{\"provider\":\"p\",\"prompt\":\"y\"}");
    EventEnvelope<JsonNode> tags =
        event("llm.prompt", "{\"provider\":\"p\",\"prompt\":\"z\",\"tags\":[7]}");
    publish(broker, List.of(hot, ok, tags));

    BbIT.Result r =
        bb(
            broker,
            "schema",
            "check",
            "llm.prompt",
            "--against-archive",
            "--first",
            "--queue",
            q,
            "--limit",
            "1");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out())
        .contains(hot.eventId() + "  offset 0")
        .contains("  /temperature: ")
        .doesNotContain(tags.eventId().toString())
        .contains("... and 1 more failing event(s) not shown (--limit 1)")
        .contains("checked 3 events of llm.prompt from the first event kept, 2 would fail");
  }

  @Test
  void aCandidateInACatalogTreeTakesItsRefsFromThatTree(BrokerExtension.Broker broker)
      throws Exception {
    String q = archive(broker);
    EventEnvelope<JsonNode> text =
        event("llm.prompt", "{\"provider\":\"p\",\"prompt\":\"x\",\"extra\":\"text\"}");
    EventEnvelope<JsonNode> number =
        event("llm.prompt", "{\"provider\":\"p\",\"prompt\":\"y\",\"extra\":7}");
    publish(broker, List.of(text, number));
    // A checkout of the catalog where llm.prompt refers to a document that only it has.
    ObjectNode candidate = promptSchema();
    ((ObjectNode) candidate.get("properties"))
        .putObject("extra")
        .put("$ref", "../common/extra.v1.schema.json");
    Path file = write("schemas/llm/prompt.v1.schema.json", candidate);
    write(
        "schemas/common/extra.v1.schema.json",
        "{\"$id\":\"https://schemas.bloodbank.dev/common/extra.v1.schema.json\","
            + "\"type\":\"integer\"}");

    BbIT.Result diff =
        bb(broker, "schema", "diff", write("old.json", promptSchema()) + "", "" + file);
    assertThat(diff.code()).as(diff.err()).isEqualTo(1);
    assertThat(diff.out()).contains("property-added-open at /extra: ");

    BbIT.Result r =
        bb(
            broker,
            "schema",
            "check",
            "llm.prompt",
            "--against-archive",
            "--first",
            "--queue",
            q,
            "--schema",
            file.toString());
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
    assertThat(r.out())
        .contains(text.eventId() + "  offset 0")
        .contains("  /extra: ")
        .doesNotContain(number.eventId().toString())
        .contains("2 events of llm.prompt from the first event kept, 1 would fail");

    // Outside its tree the same file's $ref is not found: named, before the broker is asked.
    Path loose = write("loose.json", candidate);
    BbIT.Result out =
        bb(broker, "schema", "check", "llm.prompt", "--against-archive", "--schema", "" + loose);
    assertThat(out.code()).isEqualTo(1);
    assertThat(out.err()).contains(loose.toString()).contains("extra.v1.schema.json");
  }

  @Test
  void checkFailuresAndUsage(BrokerExtension.Broker broker) throws Exception {
    String q = archive(broker);
    BbIT.Result unknown =
        bb(broker, "schema", "check", "llm.promtp", "--against-archive", "--queue", q);
    assertThat(unknown.code()).isEqualTo(1);
    assertThat(unknown.err()).contains("llm.promtp");

    Path broken = write("broken.json", "{\"type\": ");
    BbIT.Result bad =
        bb(
            broker,
            "schema",
            "check",
            "llm.prompt",
            "--against-archive",
            "--queue",
            q,
            "--schema",
            broken.toString());
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err()).contains(broken + ":1:").contains("not JSON");

    String missing = broker.queueName("no-such-archive");
    BbIT.Result noQueue =
        bb(broker, "schema", "check", "llm.prompt", "--against-archive", "--queue", missing);
    assertThat(noQueue.code()).isEqualTo(1);
    assertThat(noQueue.err()).contains(missing);

    assertThat(bb(broker, "schema", "check", "llm.prompt").code()).isEqualTo(2);
    assertThat(
            bb(
                    broker,
                    "schema",
                    "check",
                    "llm.prompt",
                    "--against-archive",
                    "--first",
                    "--since",
                    "1h")
                .code())
        .isEqualTo(2);
    assertThat(
            bb(broker, "schema", "check", "llm.prompt", "--against-archive", "--limit", "0").code())
        .isEqualTo(2);
  }
}
