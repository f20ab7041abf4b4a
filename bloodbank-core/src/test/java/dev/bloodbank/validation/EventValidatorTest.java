package dev.bloodbank.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.groups.Tuple.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Source;
import dev.bloodbank.TriggerType;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.registry.RegistryFixtures;
import dev.bloodbank.registry.RegistryFixtures.Money;
import dev.bloodbank.registry.RegistryFixtures.OrderPlaced;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class EventValidatorTest {
  static final EventCodec CODEC = EventCodec.create();
  static final ObjectMapper JSON = CODEC.objectMapper();

  final EventRegistry registry = RegistryFixtures.registry();
  final EventValidator strict = EventValidator.create(registry, CODEC.objectMapper());

  static final OrderPlaced BAD_ORDER =
      new OrderPlaced(RegistryFixtures.ORDER.orderId(), 0, new Money(-1, "euro"), null);

  static <T> EventEnvelope<T> event(String type, T payload) {
    return EventEnvelope.builder(type, payload).withSource(Source.local("test")).build();
  }

  static JsonNode json(String s) throws Exception {
    return JSON.readTree(s);
  }

  @Test
  void aValidTypedEventPasses() {
    ValidationResult r = strict.check(event("shop.order.placed", RegistryFixtures.ORDER));
    assertThat(r.isValid()).isTrue();
    assertThat(r.coverage()).isEqualTo(ValidationResult.Coverage.FULL);
    assertThat(r.mode()).isEqualTo(ValidationMode.STRICT);
    assertThat(r.eventType()).isEqualTo("shop.order.placed");
    strict.validate(event("shop.order.placed", RegistryFixtures.ORDER));
  }

  @Test
  void everyViolationIsListedWithItsPointerIncludingThoseInReferencedSchemas() {
    ValidationResult r = strict.check(event("shop.order.placed", BAD_ORDER));
    assertThat(r.violations())
        .extracting(Violation::part, Violation::pointer, Violation::keyword)
        .containsExactlyInAnyOrder(
            tuple(Violation.Part.PAYLOAD, "/quantity", "minimum"),
            tuple(Violation.Part.PAYLOAD, "/total/amount", "minimum"),
            tuple(Violation.Part.PAYLOAD, "/total/currency", "pattern"));
    assertThat(r.violations())
        .extracting(Violation::envelopePointer)
        .contains("/payload/total/currency");
  }

  @Test
  void missingAndUnexpectedFieldsPointAtTheField() throws Exception {
    JsonNode payload = json("{\"quantity\": 1, \"total\": {\"amount\": 1}, \"colour\": \"red\"}");
    ValidationResult r = strict.check(event("shop.order.placed", payload));
    assertThat(r.violations())
        .extracting(Violation::pointer, Violation::keyword)
        .containsExactlyInAnyOrder(
            tuple("/order_id", "required"),
            tuple("/total/currency", "required"),
            tuple("/colour", "additionalProperties"));
    assertThat(r.violations())
        .filteredOn(v -> v.pointer().equals("/colour"))
        .singleElement()
        .satisfies(v -> assertThat(v.message()).contains("colour"));
  }

  @Test
  void validateThrowsNamingTheEventTypeAndEveryPointer() {
    assertThatThrownBy(() -> strict.validate(event("shop.order.placed", BAD_ORDER)))
        .isInstanceOfSatisfying(
            SchemaValidationException.class,
            e -> {
              assertThat(e.eventType()).isEqualTo("shop.order.placed");
              assertThat(e.violations()).hasSize(3);
            })
        .isInstanceOf(BloodbankException.class)
        .hasMessageStartingWith("event 'shop.order.placed' is invalid (3 violations): ")
        .hasMessageContaining("/payload/quantity: ")
        .hasMessageContaining("/payload/total/currency: ");
  }

  @Test
  void strictFailsAnUnknownTypePermissivePassesItSkipChecksNothing() {
    EventEnvelope<Map<String, Integer>> unknown = event("shop.order.refunded", Map.of("x", 1));

    ValidationResult s = strict.check(unknown);
    assertThat(s.violations())
        .extracting(Violation::part, Violation::pointer, Violation::keyword)
        .containsExactly(
            tuple(Violation.Part.ENVELOPE, "/event_type", Violation.UNKNOWN_EVENT_TYPE));
    assertThat(s.violations().get(0).message()).contains("'shop.order.refunded'");

    EventValidator permissive = EventValidator.create(registry, ValidationMode.PERMISSIVE);
    ValidationResult p = permissive.check(unknown);
    assertThat(p.isValid()).isTrue();
    assertThat(p.coverage()).isEqualTo(ValidationResult.Coverage.ENVELOPE);
    assertThat(permissive.check(event("shop.order.placed", BAD_ORDER)).violations()).hasSize(3);

    EventValidator skip = EventValidator.builder(registry).mode(ValidationMode.SKIP).build();
    assertThat(skip.check(unknown).coverage()).isEqualTo(ValidationResult.Coverage.NONE);
    assertThat(skip.check(event("shop.order.placed", BAD_ORDER)).isValid()).isTrue();
    skip.validate(event("shop.order.placed", BAD_ORDER));
  }

  @ParameterizedTest
  @EnumSource(ValidationMode.class)
  void aModeGivenPerCallOverridesTheValidatorsOwn(ValidationMode mode) {
    EventEnvelope<OrderPlaced> bad = event("shop.order.placed", BAD_ORDER);
    EventEnvelope<Map<String, Integer>> unknown = event("a.b.c", Map.of());
    EventValidator v = EventValidator.create(registry, ValidationMode.SKIP);
    assertThat(v.check(bad, mode)).hasSize(mode == ValidationMode.SKIP ? 0 : 3);
    assertThat(v.check(unknown, mode)).hasSize(mode == ValidationMode.STRICT ? 1 : 0);
  }

  @Test
  void anUntypedEventIsStillValidated() throws Exception {
    assertThat(registry.require("shop.stock.low").payloadClass()).isNull();
    ValidationResult r = strict.check(event("shop.stock.low", json("{\"sku\": \"a\"}")));
    assertThat(r.violations()).extracting(Violation::pointer).containsExactly("/left");
  }

  @Test
  void anEnvelopeDocumentIsCheckedAgainstTheEnvelopeSchemaAndItsPayload() throws Exception {
    ObjectNode doc = (ObjectNode) CODEC.parse(CODEC.encode(event("shop.order.placed", BAD_ORDER)));
    doc.put("event_id", "not-a-uuid");
    ((ObjectNode) doc.get("source")).put("host", "");
    ValidationResult r = strict.check(doc);
    assertThat(r.violations())
        .extracting(Violation::envelopePointer)
        .containsExactlyInAnyOrder(
            "/event_id",
            "/source/host",
            "/payload/quantity",
            "/payload/total/amount",
            "/payload/total/currency");
    assertThat(r.violations()).filteredOn(v -> v.part() == Violation.Part.ENVELOPE).hasSize(2);

    ObjectNode noType = (ObjectNode) CODEC.parse(CODEC.encode(event("shop.order.placed", 1)));
    noType.remove("event_type");
    assertThatThrownBy(() -> strict.validate(noType))
        .isInstanceOfSatisfying(
            SchemaValidationException.class,
            e -> {
              assertThat(e.eventType()).isEqualTo("?");
              assertThat(e.violations())
                  .extracting(Violation::pointer)
                  .containsExactly("/event_type");
            });
  }

  @Test
  void theEnvelopeOfATypedEventIsCheckedAsTheCodecWritesIt() {
    EventEnvelope<OrderPlaced> e =
        EventEnvelope.builder("shop.order.placed", RegistryFixtures.ORDER)
            .withVersion("")
            .withSource(new Source("", TriggerType.MANUAL, null, Map.of()))
            .build();
    assertThat(strict.check(e).violations())
        .extracting(Violation::part, Violation::pointer)
        .containsExactlyInAnyOrder(
            tuple(Violation.Part.ENVELOPE, "/version"),
            tuple(Violation.Part.ENVELOPE, "/source/host"));
  }

  @Test
  void withoutAnEnvelopeSchemaOnlyPayloadsAndTheBareEssentialsAreChecked() throws Exception {
    EventRegistry bare = EventRegistry.empty();
    bare.register(
        EventDefinition.of(
            "iot.reading.taken",
            json("{\"type\":\"object\",\"properties\":{\"value\":{\"maximum\":1}}}"),
            null,
            false));
    EventValidator v = EventValidator.create(bare);
    EventEnvelope<JsonNode> e =
        EventEnvelope.builder("iot.reading.taken", json("{\"value\": 2}")).withVersion("").build();
    assertThat(v.check(e).violations())
        .extracting(Violation::envelopePointer)
        .containsExactly("/payload/value");
    assertThat(v.check(json("{\"payload\": {}}")).violations())
        .extracting(Violation::pointer)
        .containsExactly("/event_type");
    assertThat(v.check(json("{\"event_type\": \"iot.reading.taken\"}")).violations())
        .extracting(Violation::pointer)
        .containsExactly("/payload");
    assertThat(v.check(json("[]")).violations()).extracting(Violation::pointer).containsExactly("");
  }

  @Test
  void aReRegisteredTypeIsRecompiled() throws Exception {
    EventRegistry r = EventRegistry.empty();
    r.register(EventDefinition.of("iot.reading.taken", json("{\"maximum\": 1}"), null, false));
    EventValidator v = EventValidator.create(r);
    EventEnvelope<JsonNode> e = event("iot.reading.taken", json("5"));
    assertThat(v.check(e).isValid()).isFalse();
    r.register(EventDefinition.of("iot.reading.taken", json("{\"maximum\": 10}"), null, false));
    assertThat(v.check(e).isValid()).isTrue();
  }

  @Test
  void precompileCompilesEverySchemaAndNamesABrokenOne() throws Exception {
    assertThat(strict.precompile()).isEqualTo(4);
    registry.register(
        EventDefinition.of(
            "shop.broken.schema",
            json("{\"$ref\": \"https://schemas.example.com/common/missing.v1.schema.json\"}"),
            null,
            false));
    assertThatThrownBy(strict::precompile)
        .isInstanceOf(BloodbankException.class)
        .hasMessageContaining("shop.broken.schema");
  }

  @Test
  void aPayloadThatCannotBecomeJsonIsNamed() {
    Object opaque = new Object();
    assertThatThrownBy(() -> strict.check(event("shop.order.placed", opaque)))
        .isInstanceOf(BloodbankException.class)
        .isNotInstanceOf(SchemaValidationException.class)
        .hasMessageContaining("'shop.order.placed'")
        .hasMessageContaining("java.lang.Object");
  }

  @Test
  void theMessageShowsTheFirstViolationsAndCountsTheRest() throws Exception {
    EventRegistry r = EventRegistry.empty();
    r.register(
        EventDefinition.of(
            "iot.batch.taken",
            json("{\"type\":\"array\",\"items\":{\"type\":\"integer\"}}"),
            null,
            false));
    List<String> items = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      items.add("x");
    }
    assertThatThrownBy(() -> EventValidator.create(r).validate(event("iot.batch.taken", items)))
        .isInstanceOfSatisfying(
            SchemaValidationException.class, e -> assertThat(e.violations()).hasSize(30))
        .hasMessageContaining("(30 violations)")
        .hasMessageContaining("/payload/19: ")
        .hasMessageNotContaining("/payload/20: ")
        .hasMessageEndingWith("; and 10 more");
  }

  @Test
  void checkPayloadReportsPointersRelativeToThePayload() throws Exception {
    ValidationResult r = strict.checkPayload("shop.order.placed", JSON.valueToTree(BAD_ORDER));
    assertThat(r.violations())
        .extracting(Violation::pointer)
        .contains("/quantity", "/total/currency");
    assertThat(r.toString()).startsWith("invalid shop.order.placed (FULL): ");
    assertThatThrownBy(r::throwIfInvalid).isInstanceOf(SchemaValidationException.class);
  }

  @Test
  void isSafeToShareBetweenThreads() throws Exception {
    EventValidator v = EventValidator.create(RegistryFixtures.registry(), CODEC.objectMapper());
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        futures.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 300; i++) {
                    OrderPlaced ok =
                        new OrderPlaced(UUID.randomUUID(), 1 + i % 100, new Money(i, "USD"), null);
                    assertThat(v.check(event("shop.order.placed", ok)).violations()).isEmpty();
                    assertThat(v.check(event("shop.order.placed", BAD_ORDER)).violations())
                        .hasSize(3);
                  }
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void violationsCheckTheirPointer() {
    assertThatThrownBy(() -> new Violation(Violation.Part.PAYLOAD, "a/b", "type", "m"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'a/b'");
    Violation v = new Violation(Violation.Part.PAYLOAD, "", "type", "must be an object");
    assertThat(v.envelopePointer()).isEqualTo("/payload");
    assertThat(v.toString()).isEqualTo("/payload: must be an object");
    assertThat(new Violation(Violation.Part.ENVELOPE, "", "type", "m").toString())
        .isEqualTo("/: m");
  }
}
