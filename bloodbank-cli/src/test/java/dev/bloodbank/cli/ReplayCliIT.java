package dev.bloodbank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Publisher;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.validation.ValidationMode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code bb archive} and {@code bb replay}, run in-process against the real RabbitMQ. */
@ExtendWith(BrokerExtension.class)
class ReplayCliIT {
  private static final EventCodec CODEC = EventCodec.create();

  private static BbIT.Result bb(BrokerExtension.Broker broker, String... args) {
    return BbIT.bb(broker, args);
  }

  /** Declares a unique archive through {@code bb archive init} and publishes events into it. */
  private static String archive(BrokerExtension.Broker broker) {
    String q = broker.queueName("archive");
    BbIT.Result init = bb(broker, "archive", "init", "--queue", q, "--max-age", "1h");
    assertThat(init.code()).as(init.err()).isZero();
    assertThat(init.out()).contains("archive '" + q + "' declared").contains(broker.exchange());
    return q;
  }

  private static List<EventEnvelope<JsonNode>> publish(
      BrokerExtension.Broker broker, String... types) throws Exception {
    List<EventEnvelope<JsonNode>> sent = new ArrayList<>();
    try (Bloodbank bus = broker.connect();
        Publisher p =
            bus.publisher(PublisherOptions.builder().validation(ValidationMode.SKIP).build())) {
      for (int i = 0; i < types.length; i++) {
        EventEnvelope<JsonNode> e =
            EventEnvelope.builder(
                    types[i], CODEC.parse(("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)))
                .build();
        p.publish(e).get(10, TimeUnit.SECONDS);
        sent.add(e);
      }
    }
    return sent;
  }

  private static List<String> ids(List<EventEnvelope<JsonNode>> events) {
    return events.stream().map(e -> e.eventId().toString()).toList();
  }

  private static List<String> printedIds(BbIT.Result r) {
    assertThat(r.code()).as(r.err()).isZero();
    return Arrays.stream(r.out().split("\n"))
        .filter(l -> !l.isBlank())
        .map(l -> CODEC.decode(l.getBytes(StandardCharsets.UTF_8)).eventId().toString())
        .toList();
  }

  @Test
  void initDeclaresTheArchiveAndStatsShowsItsOffsets(BrokerExtension.Broker broker)
      throws Exception {
    String q = archive(broker);
    BbIT.Result empty = bb(broker, "archive", "stats", "--queue", q);
    assertThat(empty.code()).as(empty.err()).isZero();
    assertThat(empty.out()).contains(q).contains("events:       none");

    publish(broker, "test.a", "test.b", "test.c");
    BbIT.Result stats = bb(broker, "archive", "stats", "--queue", q);
    assertThat(stats.code()).as(stats.err()).isZero();
    assertThat(stats.out())
        .contains("first:        offset 0")
        .contains("last:         offset 2")
        .contains("offset span:  3");

    // Read without declaring: a missing stream is named, not created.
    BbIT.Result missing = bb(broker, "archive", "stats", "--queue", q + "-missing");
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err()).contains("'" + q + "-missing'").contains("NOT_FOUND");
  }

  @Test
  void printWritesTheEventsInOrderAsJsonLinesAndNoProgressWhenPiped(BrokerExtension.Broker broker)
      throws Exception {
    String q = archive(broker);
    List<EventEnvelope<JsonNode>> sent =
        publish(broker, "test.a.one", "test.b.one", "test.a.two", "test.b.two", "test.a.three");

    BbIT.Result all = bb(broker, "replay", "--queue", q, "--first", "--print");
    assertThat(printedIds(all)).containsExactlyElementsOf(ids(sent));
    EventEnvelope<JsonNode> first =
        CODEC.decode(all.out().split("\n")[0].getBytes(StandardCharsets.UTF_8));
    assertThat(first.eventType()).isEqualTo("test.a.one");
    assertThat(first.payload().get("n").asInt()).isZero();
    // Piped: no progress line, only the summary.
    assertThat(all.err()).doesNotContain("\r");
    assertThat(all.err().strip().lines())
        .containsExactly(
            "bb: replay of '" + q + "': printed 5, filtered 0, skipped 0, last offset 4");

    BbIT.Result a =
        bb(broker, "replay", "--queue", q, "--first", "--pattern", "test.a.*", "--print");
    assertThat(printedIds(a)).containsExactly(ids(sent).get(0), ids(sent).get(2), ids(sent).get(4));
    assertThat(a.err()).contains("printed 3, filtered 2");

    BbIT.Result fromOffset = bb(broker, "replay", "--queue", q, "--from-offset", "2", "--print");
    assertThat(printedIds(fromOffset)).containsExactlyElementsOf(ids(sent).subList(2, 5));

    BbIT.Result since = bb(broker, "replay", "--queue", q, "--since", "1h", "--print");
    assertThat(printedIds(since)).containsExactlyElementsOf(ids(sent));
  }

  @Test
  void republishToAQueueKeepsTheEventIdsAndDryRunPublishesNothing(BrokerExtension.Broker broker)
      throws Exception {
    String q = archive(broker);
    List<EventEnvelope<JsonNode>> sent = publish(broker, "test.x", "test.y", "test.z");
    String target = broker.rawQueue(); // bound to nothing: only --to-queue reaches it

    BbIT.Result dry =
        bb(
            broker,
            "replay",
            "--queue",
            q,
            "--first",
            "--republish",
            "--to-queue",
            target,
            "--dry-run");
    assertThat(dry.code()).as(dry.err()).isZero();
    assertThat(dry.err()).contains("would republish 3");
    assertThat(broker.drain(target, 1, Duration.ofMillis(500))).isEmpty();

    BbIT.Result r =
        bb(
            broker,
            "replay",
            "--queue",
            q,
            "--first",
            "--republish",
            "--to-queue",
            target,
            "--rate",
            "50/s");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("republished 3");
    List<GetResponse> got = broker.drain(target, 3, Duration.ofSeconds(10));
    assertThat(got)
        .extracting(g -> g.getProps().getMessageId())
        .containsExactlyElementsOf(ids(sent));
    assertThat(got)
        .extracting(g -> CODEC.decode(g.getBody()).eventId().toString())
        .containsExactlyElementsOf(ids(sent));
  }

  @Test
  void republishToTheExchangeKeepsTheEventIds(BrokerExtension.Broker broker) throws Exception {
    String q = archive(broker);
    List<EventEnvelope<JsonNode>> sent = publish(broker, "test.x", "test.y");
    String bound = broker.rawQueue("test.#");

    BbIT.Result r = bb(broker, "replay", "--queue", q, "--first", "--republish");
    assertThat(r.code()).as(r.err()).isZero();
    List<GetResponse> got = broker.drain(bound, 2, Duration.ofSeconds(10));
    assertThat(got)
        .extracting(g -> g.getEnvelope().getRoutingKey())
        .containsExactly("test.x", "test.y");
    assertThat(got)
        .extracting(g -> g.getProps().getMessageId())
        .containsExactlyElementsOf(ids(sent));
  }

  @Test
  void failuresNameTheQueueAndUsageErrorsExitTwo(BrokerExtension.Broker broker) {
    String missing = broker.queueName("no-such-archive");
    BbIT.Result r = bb(broker, "replay", "--queue", missing, "--first", "--print");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains(missing);

    assertThat(bb(broker, "replay", "--first", "--since", "2h", "--print").code()).isEqualTo(2);
    assertThat(bb(broker, "replay", "--first").code()).isEqualTo(2);
    assertThat(bb(broker, "replay", "--since", "2 hours", "--print").code()).isEqualTo(2);
    assertThat(bb(broker, "replay", "--first", "--republish", "--rate", "fast").code())
        .isEqualTo(2);
  }
}
