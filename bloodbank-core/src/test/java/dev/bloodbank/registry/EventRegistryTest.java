package dev.bloodbank.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.registry.RegistryFixtures.CancelOrder;
import dev.bloodbank.registry.RegistryFixtures.OrderPlaced;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventRegistryTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static JsonNode schema(String json) throws Exception {
    return JSON.readTree(json);
  }

  static class Animal {}

  static class Dog extends Animal {}

  @Test
  void readsEveryEntryOfTheIndex() {
    EventRegistry r = RegistryFixtures.registry();
    assertThat(r.all())
        .extracting(EventDefinition::eventType)
        .containsExactly(
            "billing.invoice.sent", "shop.order.cancel", "shop.order.placed", "shop.stock.low");
    EventDefinition placed = r.require("shop.order.placed");
    assertThat(placed.domain()).isEqualTo("shop.order");
    assertThat(placed.title()).isEqualTo("Order placed");
    assertThat(placed.payloadClass()).isEqualTo(OrderPlaced.class);
    assertThat(placed.schemaResource())
        .contains("fixture/schemas/shop/order-placed.v1.schema.json");
    assertThat(placed.schemaLocation())
        .isEqualTo("classpath:fixture/schemas/shop/order-placed.v1.schema.json");
    EventDefinition invoice = r.require("billing.invoice.sent");
    assertThat(invoice.domain()).as("default domain").isEqualTo("billing.invoice");
    assertThat(invoice.title()).as("default title").isEqualTo("billing.invoice.sent");
    assertThat(invoice.payloadType()).isEmpty();
  }

  @Test
  void aPayloadClassThatCannotBeLoadedLeavesTheEventUntyped() {
    EventDefinition d = RegistryFixtures.registry().require("shop.stock.low");
    assertThat(d.payloadClassName()).isEqualTo("com.example.NotOnTheClasspath");
    assertThat(d.payloadClass()).isNull();
    assertThat(d.payloadType()).isEmpty();
  }

  @Test
  void listsDomainsWithTheOnesTheyAreNestedIn() {
    EventRegistry r = RegistryFixtures.registry();
    assertThat(r.domains()).containsExactly("billing", "billing.invoice", "shop", "shop.order");
    assertThat(r.events("shop"))
        .extracting(EventDefinition::eventType)
        .containsExactly("shop.order.cancel", "shop.order.placed", "shop.stock.low");
    assertThat(r.events("shop.order"))
        .extracting(EventDefinition::eventType)
        .containsExactly("shop.order.cancel", "shop.order.placed");
    assertThat(r.events("sho")).isEmpty();
    assertThat(r.events("nowhere")).isEmpty();
  }

  @Test
  void listsTheCommandsTheCatalogDeclares() {
    assertThat(RegistryFixtures.registry().commands())
        .extracting(EventDefinition::eventType)
        .containsExactly("shop.order.cancel");
  }

  @Test
  void mapsPayloadClassesBackToEventTypes() {
    EventRegistry r = RegistryFixtures.registry();
    assertThat(r.eventTypeOf(OrderPlaced.class)).isEqualTo("shop.order.placed");
    assertThat(r.findByPayloadClass(CancelOrder.class))
        .map(EventDefinition::eventType)
        .contains("shop.order.cancel");
    assertThat(r.findByPayloadClass(String.class)).isEmpty();
    assertThatThrownBy(() -> r.eventTypeOf(String.class))
        .isInstanceOfSatisfying(
            UnknownEventTypeException.class,
            e -> {
              assertThat(e.payloadClass()).contains(String.class);
              assertThat(e.candidates()).isEmpty();
            })
        .hasMessageContaining("no event type has payload class java.lang.String");
  }

  @Test
  void aSubclassMapsToTheEventOfItsNearestRegisteredSuperclass() throws Exception {
    EventRegistry r = EventRegistry.empty();
    r.register(EventDefinition.of("zoo.animal.seen", schema("{}"), Animal.class, false));
    assertThat(r.eventTypeOf(Dog.class)).isEqualTo("zoo.animal.seen");
    r.register(EventDefinition.of("zoo.dog.seen", schema("{}"), Dog.class, false));
    assertThat(r.eventTypeOf(Dog.class)).isEqualTo("zoo.dog.seen");
  }

  @Test
  void aClassOfSeveralEventTypesHasNoSingleEventType() throws Exception {
    EventRegistry r = EventRegistry.empty();
    r.register(EventDefinition.of("a.b.one", schema("{}"), Animal.class, false));
    r.register(EventDefinition.of("a.b.two", schema("{}"), Animal.class, false));
    assertThat(r.findByPayloadClass(Animal.class)).isEmpty();
    assertThatThrownBy(() -> r.eventTypeOf(Animal.class))
        .isInstanceOfSatisfying(
            UnknownEventTypeException.class,
            e -> assertThat(e.candidates()).containsExactly("a.b.one", "a.b.two"))
        .hasMessageContaining("bound to several event types (a.b.one, a.b.two)");
  }

  @Test
  void anUnknownTypeIsAnEmptyOptionalOrATypedExceptionWithCloseMatches() {
    EventRegistry r = RegistryFixtures.registry();
    assertThat(r.find("shop.order.placd")).isEmpty();
    assertThat(r.contains("shop.order.placd")).isFalse();
    assertThatThrownBy(() -> r.require("shop.order.placd"))
        .isInstanceOfSatisfying(
            UnknownEventTypeException.class,
            e -> {
              assertThat(e.eventType()).isEqualTo("shop.order.placd");
              assertThat(e.candidates()).first().isEqualTo("shop.order.placed");
              assertThat(e.payloadClass()).isEmpty();
            })
        .isInstanceOf(BloodbankException.class)
        .hasMessageStartingWith(
            "unknown event type 'shop.order.placd'; did you mean shop.order.placed");
    assertThatThrownBy(() -> r.require("completely.different"))
        .isInstanceOfSatisfying(
            UnknownEventTypeException.class, e -> assertThat(e.candidates()).isEmpty())
        .hasMessageNotContaining("did you mean");
    assertThatThrownBy(() -> r.schema("nope.nope")).isInstanceOf(UnknownEventTypeException.class);
  }

  @Test
  void applicationsRegisterTheirOwnEventsWithAnInlineSchema() throws Exception {
    EventRegistry r = RegistryFixtures.registry();
    JsonNode s = schema("{\"type\":\"object\",\"required\":[\"reason\"]}");
    r.register(
        EventDefinition.builder("shop.refund.issue")
            .schema(s)
            .payloadClass(CancelOrder.class)
            .command(true)
            .domain("shop.refund")
            .title("Issue a refund")
            .build());
    EventDefinition d = r.require("shop.refund.issue");
    assertThat(d.schemaLocation()).isEqualTo("inline:shop.refund.issue");
    assertThat(d.schemaResource()).isEmpty();
    assertThat(r.schema("shop.refund.issue")).isEqualTo(s);
    assertThat(r.commands())
        .extracting(EventDefinition::eventType)
        .containsExactly("shop.order.cancel", "shop.refund.issue");
    assertThat(r.domains()).contains("shop.refund");
    assertThat(r.findByPayloadClass(CancelOrder.class)).as("now two types").isEmpty();
  }

  @Test
  void applicationsRegisterTheirOwnEventsWithASchemaResource() {
    EventRegistry r = EventRegistry.empty(RegistryFixtures.loader("fixture-a"));
    r.register(
        EventDefinition.builder("warehouse.stock.low")
            .schemaResource("fixture/schemas/shop/stock-low.v1.schema.json")
            .build());
    assertThat(r.schema("warehouse.stock.low").path("title").asText()).isEqualTo("Stock low");
    assertThat(r.schemaUrl("warehouse.stock.low")).isPresent();
    assertThat(r.require("warehouse.stock.low").domain()).isEqualTo("warehouse.stock");

    r.register(
        EventDefinition.builder("warehouse.stock.gone").schemaResource("no/such.json").build());
    assertThat(r.schemaUrl("warehouse.stock.gone")).isEmpty();
    assertThatThrownBy(() -> r.schema("warehouse.stock.gone"))
        .isInstanceOf(BloodbankException.class)
        .hasMessageContaining("classpath:no/such.json");
  }

  @Test
  void reRegisteringReplacesTheDefinitionAndItsReverseMapping() throws Exception {
    EventRegistry r = RegistryFixtures.registry();
    r.register(EventDefinition.of("shop.order.placed", schema("{}"), CancelOrder.class, false));
    assertThat(r.findByPayloadClass(OrderPlaced.class)).isEmpty();
    assertThat(r.findByPayloadClass(CancelOrder.class)).isEmpty(); // and shop.order.cancel
    assertThat(r.schema("shop.order.placed")).isEqualTo(schema("{}"));

    EventDefinition bound = r.bind("shop.order.cancel", Dog.class);
    assertThat(bound.schemaLocation()).endsWith("order-cancel.v1.schema.json");
    assertThat(bound.command()).isTrue();
    assertThat(r.eventTypeOf(Dog.class)).isEqualTo("shop.order.cancel");
    assertThat(r.eventTypeOf(CancelOrder.class)).isEqualTo("shop.order.placed");
    assertThatThrownBy(() -> r.bind("shop.order.nope", Dog.class))
        .isInstanceOf(UnknownEventTypeException.class);
  }

  @Test
  void schemasAreCopiesThatCallersMayChange() throws Exception {
    EventRegistry r = RegistryFixtures.registry();
    ((ObjectNode) r.schema("shop.order.placed")).removeAll();
    assertThat(r.schema("shop.order.placed").path("required")).hasSize(3);

    ObjectNode inline = (ObjectNode) schema("{\"type\":\"object\"}");
    r.register(EventDefinition.of("x.y.z", inline, null, false));
    inline.put("type", "string");
    ((ObjectNode) r.schema("x.y.z")).put("type", "number");
    assertThat(r.schema("x.y.z").path("type").asText()).isEqualTo("object");
  }

  @Test
  void resolvesCatalogSchemaIdsOnItsOwnClassLoader() {
    EventRegistry r = RegistryFixtures.registry();
    assertThat(r.resolveSchemaId("https://schemas.example.com/common/money.v1.schema.json"))
        .hasValueSatisfying(u -> assertThat(u.getPath()).endsWith("common/money.v1.schema.json"));
    assertThat(r.resolveSchemaId("https://schemas.example.com/common/nope.json")).isEmpty();
    assertThat(r.resolveSchemaId("https://elsewhere.example.com/x.json")).isEmpty();
    assertThat(r.envelopeSchema())
        .hasValueSatisfying(s -> assertThat(s.path("title").asText()).isEqualTo("Test envelope"));
    assertThat(EventRegistry.empty().envelopeSchema()).isEmpty();
  }

  @Test
  void readsSeveralIndexesAndSeveralDocumentsInOneIndex() {
    EventRegistry r =
        EventRegistry.fromClasspath(RegistryFixtures.loader("fixture-a", "fixture-b"));
    assertThat(r.all()).hasSize(6);
    assertThat(r.require("crm.lead.created").domain()).isEqualTo("crm.lead");
    assertThat(r.require("crm.lead.created").title()).isEqualTo("first");
    assertThat(r.require("crm.lead.lost").domain()).isEqualTo("crm");
    assertThat(r.require("crm.lead.lost").command()).isTrue();
    assertThat(r.domains()).contains("crm", "crm.lead", "shop", "shop.order");
  }

  @Test
  void aMalformedIndexNamesItsEntry() {
    ClassLoader bad = RegistryFixtures.loader("fixture-bad");
    assertThatThrownBy(() -> EventRegistry.fromClasspath(bad))
        .isInstanceOf(BloodbankException.class)
        .hasMessageContaining("fixture-bad/META-INF/bloodbank/catalog.json /events/1")
        .hasMessageContaining("'event_type'");
  }

  @Test
  void withoutACatalogTheRegistryIsEmpty() {
    EventRegistry r = EventRegistry.fromClasspath(new URLClassLoader(new URL[0], null));
    assertThat(r.all()).isEmpty();
    assertThat(r.domains()).isEmpty();
    assertThat(r.envelopeSchemaLocation()).isEmpty();
  }

  @Test
  void definitionsRejectBadValuesNamingThem() throws Exception {
    assertThatThrownBy(() -> EventDefinition.builder("a.b").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("a.b needs a schema");
    assertThatThrownBy(() -> EventDefinition.builder("a b").schema(schema("{}")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'a b'");
    assertThatThrownBy(
            () -> EventDefinition.builder("a.b").schema(schema("{}")).domain("a..b").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("domain 'a..b'");
    assertThatThrownBy(() -> EventDefinition.builder("a.b").schemaResource("/abs.json"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'/abs.json'");
    assertThatThrownBy(
            () -> new EventDefinition("a.b", "a", "http://x/s.json", null, null, null, false, "t"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'http://x/s.json'");
    assertThatThrownBy(() -> EventDefinition.of("a.b", schema("[1]"), null, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("JSON object or boolean");
  }

  @Test
  void inDomainMatchesWholeWordsOnly() throws Exception {
    EventDefinition d = EventDefinition.builder("agent.thread.prompt").schema(schema("{}")).build();
    assertThat(d.inDomain("agent")).isTrue();
    assertThat(d.inDomain("agent.thread")).isTrue();
    assertThat(d.inDomain("agent.thr")).isFalse();
    assertThat(d.inDomain("agent.thread.prompt")).isFalse();
  }

  @Test
  void concurrentRegistrationsAndLookupsStayConsistent() throws Exception {
    EventRegistry r = RegistryFixtures.registry();
    JsonNode s = schema("{}");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int thread = t;
        futures.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 500; i++) {
                    r.register(EventDefinition.of("load.t" + thread + ".e" + i, s, null, false));
                    assertThat(r.require("shop.order.placed").payloadClass())
                        .isEqualTo(OrderPlaced.class);
                    assertThat(r.find("load.t" + thread + ".e" + i)).isPresent();
                    r.domains();
                  }
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(r.all()).hasSize(4 + 4 * 500);
    assertThat(r.events("load")).hasSize(4 * 500);
  }
}
