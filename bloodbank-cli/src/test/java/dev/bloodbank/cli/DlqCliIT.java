package dev.bloodbank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.FailureHeaders;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code bb dlq}, piped and in-process, and killed in its own process, on the real RabbitMQ. */
@ExtendWith(BrokerExtension.class)
class DlqCliIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A queue and its dead-letter queue holding {@code n} events that failed in it. */
  record Dead(String queue, String dlq, List<String> ids) {}

  static Dead deadLetters(BrokerExtension.Broker broker, int n) throws IOException {
    String q = broker.queueName("orders");
    String dlq = q + ".dlq";
    broker.raw().queueDeclare(q, true, false, false, null);
    broker.raw().queueDeclare(dlq, true, false, false, null);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id = UUID.randomUUID().toString();
      String key = i % 2 == 0 ? "dl.a" : "dl.b";
      Map<String, Object> h = new HashMap<>();
      h.put(FailureHeaders.QUEUE, q);
      h.put(FailureHeaders.ORIGINAL_EXCHANGE, broker.exchange());
      h.put(FailureHeaders.ORIGINAL_ROUTING_KEY, key);
      h.put(FailureHeaders.REASON, FailureHeaders.REASON_HANDLER_FAILED);
      h.put(FailureHeaders.ATTEMPTS, 3);
      h.put(FailureHeaders.ERROR_CLASS, "java.lang.IllegalStateException");
      h.put(FailureHeaders.ERROR_MESSAGE, "refused " + i);
      h.put(FailureHeaders.FIRST_FAILURE, "2026-12-04T10:00:00Z");
      h.put(FailureHeaders.LAST_FAILURE, "2026-12-04T10:00:05Z");
      broker
          .raw()
          .basicPublish(
              "",
              dlq,
              new AMQP.BasicProperties.Builder()
                  .messageId(id)
                  .type(key)
                  .contentType("application/json")
                  .deliveryMode(2)
                  .headers(h)
                  .build(),
              ("{\"event_id\":\""
                      + id
                      + "\",\"event_type\":\""
                      + key
                      + "\",\"payload\":{\"n\":"
                      + i
                      + "}}")
                  .getBytes(StandardCharsets.UTF_8));
      ids.add(id);
    }
    // Published without confirms: counted only once the queue has them all.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (broker.messageCount(dlq) != n && System.nanoTime() < deadline) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
    }
    assertThat(broker.messageCount(dlq)).as("dead letters in " + dlq).isEqualTo(n);
    return new Dead(q, dlq, ids);
  }

  private static List<String> lines(String text) {
    return Arrays.stream(text.split("\n")).filter(l -> !l.isBlank()).toList();
  }

  private static List<String> arrived(BrokerExtension.Broker broker, String queue, int max)
      throws Exception {
    List<String> ids = new ArrayList<>();
    for (GetResponse g : broker.drain(queue, max, Duration.ofSeconds(2))) {
      ids.add(g.getProps().getMessageId());
    }
    return ids;
  }

  @Test
  void listShowsCountsOfNamedQueuesAndFindsTheDlqsWithRabbitmqctl(BrokerExtension.Broker broker)
      throws Exception {
    Dead d = deadLetters(broker, 3);
    BbIT.Result named = BbIT.bb(broker, "dlq", "list", d.dlq());
    assertThat(named.code()).as(named.err()).isZero();
    assertThat(lines(named.out()))
        .hasSize(2)
        .first()
        .asString()
        .containsPattern("QUEUE +MESSAGES +CONSUMERS");
    assertThat(lines(named.out()).get(1)).matches(d.dlq() + " +3 +0");

    BbIT.Result all = BbIT.bb(broker, "dlq", "list");
    assertThat(all.code()).as(all.err()).isZero();
    assertThat(all.out()).containsPattern(d.dlq() + " +3 +0");
    assertThat(all.out()).doesNotContainPattern("(?m)^" + d.queue() + " ");

    BbIT.Result missing = BbIT.bb(broker, "dlq", "list", "no-such-" + d.dlq());
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err()).contains("'no-such-" + d.dlq() + "'").contains("NOT_FOUND");
  }

  @Test
  void showPrintsWhyEachFailedAndLeavesThemThere(BrokerExtension.Broker broker) throws Exception {
    Dead d = deadLetters(broker, 3);
    BbIT.Result text = BbIT.bb(broker, "dlq", "show", d.dlq(), "-n", "2");
    assertThat(text.code()).as(text.err()).isZero();
    assertThat(text.out())
        .contains("#1 dl.a  " + d.ids().get(0))
        .contains("routing key dl.a on " + broker.exchange() + ", failed in " + d.queue())
        .contains(
            "handler-failed after 3 attempt(s), first 2026-12-04T10:00:00Z, last"
                + " 2026-12-04T10:00:05Z")
        .contains("java.lang.IllegalStateException: refused 0")
        .contains("#2 dl.b  " + d.ids().get(1))
        .doesNotContain(d.ids().get(2));
    assertThat(text.err()).contains("showed 2 of 3 in '" + d.dlq() + "'");

    BbIT.Result json = BbIT.bb(broker, "dlq", "show", d.dlq(), "--json");
    assertThat(json.code()).as(json.err()).isZero();
    List<JsonNode> docs = new ArrayList<>();
    for (String l : lines(json.out())) {
      docs.add(JSON.readTree(l));
    }
    assertThat(docs).hasSize(3);
    JsonNode first = docs.get(0);
    assertThat(first.get("event_id").asText()).isEqualTo(d.ids().get(0));
    assertThat(first.get("failed_queue").asText()).isEqualTo(d.queue());
    assertThat(first.get("attempts").asInt()).isEqualTo(3);
    assertThat(first.get("body").get("payload").get("n").asInt()).isZero();
    assertThat(first.get("headers").get(FailureHeaders.REASON).asText())
        .isEqualTo("handler-failed");
    assertThat(broker.messageCount(d.dlq())).isEqualTo(3);
  }

  @Test
  void replayMovesBackWithFilterAndLimitAndSaysWhatItDid(BrokerExtension.Broker broker)
      throws Exception {
    Dead d = deadLetters(broker, 6);
    BbIT.Result dry = BbIT.bb(broker, "dlq", "replay", d.dlq(), "--dry-run");
    assertThat(dry.code()).as(dry.err()).isZero();
    assertThat(lines(dry.out())).hasSize(6).allMatch(l -> l.startsWith("would move "));
    assertThat(dry.err()).contains("would move 6, skipped 0, unmovable 0, 6 remaining");

    BbIT.Result some =
        BbIT.bb(broker, "dlq", "replay", d.dlq(), "--filter", "dl.a", "--limit", "2");
    assertThat(some.code()).as(some.err()).isZero();
    assertThat(lines(some.out()))
        .containsExactly(
            "moved " + d.ids().get(0) + " dl.a -> " + d.queue(),
            "moved " + d.ids().get(2) + " dl.a -> " + d.queue());
    assertThat(some.err())
        .contains("dead-letter replay of '" + d.dlq() + "': moved 2, skipped 1, unmovable 0");
    assertThat(arrived(broker, d.queue(), 10)).containsExactly(d.ids().get(0), d.ids().get(2));

    BbIT.Result nowhere =
        BbIT.bb(broker, "dlq", "replay", d.dlq(), "--to-queue", "no-such-" + d.queue());
    assertThat(nowhere.code()).isEqualTo(1);
    assertThat(nowhere.err())
        .contains("moved 0, skipped 0, unmovable 4, 4 remaining")
        .contains("target queue 'no-such-" + d.queue() + "' does not exist");

    BbIT.Result rest = BbIT.bb(broker, "dlq", "replay", d.dlq());
    assertThat(rest.code()).as(rest.err()).isZero();
    assertThat(rest.err()).contains("moved 4, skipped 0, unmovable 0, 0 remaining");
    assertThat(arrived(broker, d.queue(), 10))
        .containsExactly(d.ids().get(1), d.ids().get(3), d.ids().get(4), d.ids().get(5));
  }

  @Test
  void purgeAsksUnlessYes(BrokerExtension.Broker broker) throws Exception {
    Dead d = deadLetters(broker, 2);
    BbIT.Result noAnswer = BbIT.bb(broker, "dlq", "purge", d.dlq());
    assertThat(noAnswer.code()).isEqualTo(1);
    assertThat(noAnswer.err())
        .contains("delete 2 event(s) from '" + d.dlq() + "' for good? [y/N]")
        .contains("not purged: no answer (use --yes when not on a terminal)");
    BbIT.Result no = BbIT.bbWithInput(broker, "n\n", "dlq", "purge", d.dlq());
    assertThat(no.code()).isEqualTo(1);
    assertThat(no.err()).contains("bb: not purged");
    assertThat(broker.messageCount(d.dlq())).isEqualTo(2);

    BbIT.Result yes = BbIT.bbWithInput(broker, "y\n", "dlq", "purge", d.dlq());
    assertThat(yes.code()).as(yes.err()).isZero();
    assertThat(yes.out()).contains("purged 2 event(s) from '" + d.dlq() + "'");
    deadLetters(broker, 0);
    BbIT.Result flag = BbIT.bb(broker, "dlq", "purge", d.dlq(), "--yes");
    assertThat(flag.code()).as(flag.err()).isZero();
    assertThat(flag.out()).contains("purged 0 event(s)");
  }

  /**
   * A replay killed with SIGKILL, then run again: every event arrives, and at most the one whose
   * confirm had come but whose removal had not arrives twice, with its event id unchanged.
   */
  @Test
  void aReplayKilledMidwayAndRunAgainLosesNothing(BrokerExtension.Broker broker) throws Exception {
    Dead d = deadLetters(broker, 200);
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Path log = Files.createTempFile("bb-dlq", ".out");
    ProcessBuilder pb =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                cp,
                "dev.bloodbank.cli.Bb",
                "dlq",
                "replay",
                d.dlq(),
                "--rate",
                "100/s")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("BLOODBANK_EXCHANGE", broker.exchange());
    Process p = pb.start();
    // Killed once some have moved: about a fifth of the way at 100 a second.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    long left0;
    while (((left0 = broker.messageCount(d.dlq())) > 160 || left0 < 0)
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    p.destroyForcibly();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    long left = broker.messageCount(d.dlq());
    assertThat(left).as(Files.readString(log)).isBetween(1L, 199L);

    BbIT.Result rest = BbIT.bb(broker, "dlq", "replay", d.dlq());
    assertThat(rest.code()).as(rest.err()).isZero();
    assertThat(broker.messageCount(d.dlq())).isZero();
    List<String> got = arrived(broker, d.queue(), 400);
    assertThat(got).containsAll(d.ids());
    assertThat(got.size()).isBetween(200, 201);
    Files.deleteIfExists(log);
  }
}
