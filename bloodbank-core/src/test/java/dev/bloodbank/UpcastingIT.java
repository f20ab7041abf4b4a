package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.archive.ArchiveOptions;
import dev.bloodbank.archive.ReplayOptions;
import dev.bloodbank.archive.ReplayResult;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.validation.ValidationMode;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Events written with an older version of their schema reach handlers in the current shape, through
 * registered upcasters, on a subscriber and on a replay of the archive.
 */
@ExtendWith(BrokerExtension.class)
class UpcastingIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TYPE = "upcast.order.placed";

  /** Version 1: one name, a decimal total. */
  static final String V1 =
      "{\"type\":\"object\",\"required\":[\"customer\",\"total\"],\"properties\":{"
          + "\"customer\":{\"type\":\"string\"},\"total\":{\"type\":\"number\"}}}";

  /** Version 3, the current one: first and last name, the total in cents, a currency. */
  static final String V3 =
      "{\"type\":\"object\",\"x-bloodbank\":{\"event_type\":\""
          + TYPE
          + "\",\"version\":3},\"required\":[\"customer\",\"total_cents\"],\"properties\":{"
          + "\"customer\":{\"type\":\"object\",\"required\":[\"first\",\"last\"],\"properties\":{"
          + "\"first\":{\"type\":\"string\"},\"last\":{\"type\":\"string\"}}},"
          + "\"total_cents\":{\"type\":\"integer\"},\"currency\":{\"type\":\"string\"}}}";

  /** Version 2 had the names and cents but no currency. */
  static final String V2 =
      "{\"type\":\"object\",\"required\":[\"customer\",\"total_cents\"],\"properties\":{"
          + "\"customer\":{\"type\":\"object\"},\"total_cents\":{\"type\":\"integer\"},"
          + "\"currency\":false}}";

  record Customer(String first, String last) {}

  record Order(Customer customer, long totalCents, String currency) {}

  static void registerVersions(EventRegistry registry) throws Exception {
    ObjectNode current = (ObjectNode) JSON.readTree(V3);
    ((com.fasterxml.jackson.databind.node.ArrayNode) current.get("required")).add("currency");
    registry.register(EventDefinition.of(TYPE, current, Order.class, false));
    registry.upcaster(
        TYPE,
        1,
        2,
        JSON.readTree(V1),
        p -> {
          String[] name = p.get("customer").asText().split(" ", 2);
          ObjectNode out = JSON.createObjectNode();
          out.putObject("customer").put("first", name[0]).put("last", name[1]);
          out.put("total_cents", Math.round(p.get("total").asDouble() * 100));
          return out;
        });
    registry.upcaster(TYPE, 2, 3, JSON.readTree(V2), p -> ((ObjectNode) p).put("currency", "EUR"));
  }

  static List<JsonNode> payloads() throws Exception {
    return List.of(
        JSON.readTree("{\"customer\":\"Ada Lovelace\",\"total\":12.5}"),
        JSON.readTree(
            "{\"customer\":{\"first\":\"Alan\",\"last\":\"Turing\"},\"total_cents\":700}"),
        JSON.readTree(
            "{\"customer\":{\"first\":\"Grace\",\"last\":\"Hopper\"},\"total_cents\":99,"
                + "\"currency\":\"USD\"}"),
        JSON.readTree("{\"customer\":42}"));
  }

  @Test
  void aSubscriberAndAReplaySeeEveryVersionInTheCurrentShape(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    registerVersions(bus.registry());
    assertThat(bus.registry().schemaVersion(TYPE)).isEqualTo(3);
    String archive = broker.queueName("archive");
    bus.archive(ArchiveOptions.builder().queue(archive).build());

    List<Order> received = new CopyOnWriteArrayList<>();
    Subscriber s =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder(TYPE).maxAttempts(1).build(),
                Order.class,
                e -> received.add(e.payload())));
    // Old producers: written without validation, in their own versions' shapes.
    try (Publisher old =
        bus.publisher(PublisherOptions.builder().validation(ValidationMode.SKIP).build())) {
      for (JsonNode p : payloads()) {
        old.publish(EventEnvelope.builder(TYPE, p).build()).get(10, TimeUnit.SECONDS);
      }
    }
    Order ada = new Order(new Customer("Ada", "Lovelace"), 1250, "EUR");
    Order alan = new Order(new Customer("Alan", "Turing"), 700, "EUR");
    Order grace = new Order(new Customer("Grace", "Hopper"), 99, "USD");
    Await.until(() -> received.size() == 3 && s.health().deadLettered() == 1);
    assertThat(received).containsExactly(ada, alan, grace);
    // The one that fits no version is refused as invalid, with the current schema's violations.
    String letter =
        new String(
            broker
                .drain(s.deadLetterQueueName(), 1, java.time.Duration.ofSeconds(5))
                .get(0)
                .getBody(),
            java.nio.charset.StandardCharsets.UTF_8);
    assertThat(letter).contains("\"customer\":42");

    List<Order> replayed = new CopyOnWriteArrayList<>();
    ReplayResult r =
        bus.replay(
                ReplayOptions.builder().queue(archive).build(),
                Order.class,
                e -> replayed.add(e.payload()))
            .completion()
            .get(30, TimeUnit.SECONDS);
    assertThat(replayed).containsExactly(ada, alan, grace);
    assertThat(r.skipped()).isEqualTo(1);
  }

  @Test
  void registrationsAreCheckedAndAFailingUpcasterRefusesTheEventNamingIt(
      BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    EventRegistry registry = bus.registry();
    String type = "upcast.bad.thing";
    registry.register(
        EventDefinition.of(
            type,
            JSON.readTree(
                "{\"x-bloodbank\":{\"version\":2},\"required\":[\"b\"],\"properties\":{\"b\":{}}}"),
            null,
            false));
    JsonNode v1 = JSON.readTree("{\"required\":[\"a\"]}");
    assertThatThrownBy(() -> registry.upcaster(type, 1, 3, v1, p -> p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("version 3 goes beyond its current schema, version 2");
    assertThatThrownBy(() -> registry.upcaster(type, 2, 2, v1, p -> p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got 2 -> 2");
    assertThatThrownBy(() -> registry.upcaster(type, 1, 2, p -> p))
        .isInstanceOf(BloodbankException.class)
        .hasMessageContaining("no schema of upcast.bad.thing version 1 on the class path");
    registry.upcaster(
        type,
        1,
        2,
        v1,
        p -> {
          throw new IllegalStateException("cannot reshape");
        });
    assertThatThrownBy(() -> registry.upcaster(type, 1, 2, v1, p -> p))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("from version 1 is registered");

    Subscriber s =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder(type).maxAttempts(1).build(), JsonNode.class, e -> {}));
    try (Publisher old =
        bus.publisher(PublisherOptions.builder().validation(ValidationMode.SKIP).build())) {
      old.publish(EventEnvelope.builder(type, JSON.readTree("{\"a\":1}")).build())
          .get(10, TimeUnit.SECONDS);
    }
    Await.until(() -> s.health().deadLettered() == 1);
    var dead = broker.drain(s.deadLetterQueueName(), 1, java.time.Duration.ofSeconds(5)).get(0);
    assertThat(dead.getProps().getHeaders().get(FailureHeaders.REASON).toString())
        .isEqualTo(FailureHeaders.REASON_INVALID);
    assertThat(dead.getProps().getHeaders().get(FailureHeaders.ERROR_MESSAGE).toString())
        .contains("the upcaster of upcast.bad.thing from version 1 to 2 failed")
        .contains("cannot reshape");
  }
}
