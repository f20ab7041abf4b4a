package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.fault.LogCapture;
import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Bad input reaching a running subscriber (issue #9, scenarios 17 and 21): each hostile message is
 * dead-lettered with an error naming the constraint or field, none reaches the handler, nothing
 * overflows the stack, the subscriber keeps running, and every log line about them stays one line.
 */
@ExtendWith(BrokerExtension.class)
class BadInputIT {

  @Test
  @Scenario({17, 21})
  void hostileMessagesAreDeadLetteredNamingTheConstraintAndTheSubscriberKeepsRunning(
      BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    List<EventEnvelope<JsonNode>> handled = new CopyOnWriteArrayList<>();
    Subscriber s =
        broker.track(
            bus.subscribe(SubscriberOptions.builder("bad.#").maxAttempts(1).build(), handled::add));

    String valid = EventFixtures.validV2Tree().put("event_type", "bad.x").toString();
    // name -> (body, content type, what the error must name)
    Map<String, Object[]> cases = new LinkedHashMap<>();
    cases.put(
        "nested 10,000 deep",
        new Object[] {
          utf8(withPayload(valid, "[".repeat(10_000) + "]".repeat(10_000))), null, "nesting depth"
        });
    cases.put(
        "30 MB string",
        new Object[] {
          utf8(withPayload(valid, "\"" + "x".repeat(30 * 1024 * 1024) + "\"")), null, "8388608"
        });
    cases.put(
        "2,000-digit number",
        new Object[] {
          utf8(withPayload(valid, "9".repeat(2000))), null, "Number value length (2000)"
        });
    cases.put(
        "duplicate keys",
        new Object[] {utf8(withPayload(valid, "{\"a\":1,\"a\":2}")), null, "'a'"});
    byte[] withHole = utf8(withPayload(valid, "{\"t\":\"#\"}"));
    int hole = indexOf(withHole, (byte) '#');
    withHole[hole] = (byte) 0xC3;
    cases.put(
        "invalid UTF-8", new Object[] {insert(withHole, hole + 1, (byte) 0x28), null, "UTF-8"});
    cases.put("wrong content type", new Object[] {utf8(valid), "text/plain", "text/plain"});
    ObjectNode missing = EventFixtures.validV2Tree().put("event_type", "bad.x");
    missing.remove("event_id");
    cases.put("missing required field", new Object[] {utf8(missing.toString()), null, "/event_id"});
    // Control characters and a forged log line in what the SDK logs (the message id).
    String forged = "evil\nFORGED-LOG-LINE WARN all good\r\u0007";
    cases.put(
        "newline in logged text",
        new Object[] {utf8("{\"event_type\":\"bad.x\"\n, \"x\": \"\n\u0001\"}"), null, "line"});

    Map<String, String> messageIds = new HashMap<>();
    try (LogCapture logs = new LogCapture()) {
      for (Map.Entry<String, Object[]> c : cases.entrySet()) {
        String mid = c.getKey().startsWith("newline") ? forged : "bad-" + UUID.randomUUID();
        messageIds.put(mid, c.getKey());
        AMQP.BasicProperties.Builder props =
            new AMQP.BasicProperties.Builder()
                .messageId(mid)
                .contentType(
                    c.getValue()[1] != null ? (String) c.getValue()[1] : "application/json")
                .deliveryMode(2);
        broker
            .raw()
            .basicPublish(broker.exchange(), "bad.x", props.build(), (byte[]) c.getValue()[0]);
      }
      // A good event after all of them still arrives.
      EventEnvelope<Map<String, String>> good =
          bus.publisher().publish("bad.good", Map.of("@class", "java.lang.ProcessBuilder")).get();

      List<GetResponse> dead =
          broker.drain(s.deadLetterQueueName(), cases.size(), Duration.ofSeconds(60));
      assertThat(dead).as("dead-lettered").hasSize(cases.size());
      for (GetResponse d : dead) {
        String name = messageIds.get(d.getProps().getMessageId());
        assertThat(name).as("a message we sent: %s", d.getProps().getMessageId()).isNotNull();
        Map<String, Object> h = d.getProps().getHeaders();
        String message = String.valueOf(h.get(FailureHeaders.ERROR_MESSAGE));
        assertThat(message).as(name).contains((String) cases.get(name)[2]);
        assertThat(String.valueOf(h.get(FailureHeaders.ERROR_CLASS)))
            .as(name)
            .doesNotContain("StackOverflowError");
      }
      Await.until(() -> handled.size() == 1);
      assertThat(handled.get(0).eventId()).isEqualTo(good.eventId());
      // An "@class" field is plain data: no type was looked up, nothing was instantiated.
      assertThat(handled.get(0).payload().get("@class").asText())
          .isEqualTo("java.lang.ProcessBuilder");
      assertThat(s.health().isHealthy()).isTrue();
      // The counter moves once the dead-letter copy is confirmed, which may be just after the
      // copy can be drained.
      Await.until(() -> s.health().deadLettered() == cases.size());
      assertThat(s.health().deadLettered()).isEqualTo(cases.size());

      String text = logs.text();
      assertThat(text).contains("FORGED-LOG-LINE");
      for (String line : text.split("\n", -1)) {
        assertThat(line).as("a log line that starts with forged text").doesNotStartWith("FORGED");
        assertThat(line).doesNotContain("\u0007").doesNotContain("\r");
      }
      assertThat(text).contains("evil\\nFORGED-LOG-LINE");
    }
    ReliabilityReport.events(17, cases.size() + 1, 0, 0);
  }

  private static String withPayload(String valid, String payload) {
    int i = valid.indexOf("\"payload\":");
    // The fixture's payload is the last field.
    return valid.substring(0, i) + "\"payload\":" + payload + "}";
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static int indexOf(byte[] a, byte b) {
    for (int i = 0; i < a.length; i++) {
      if (a[i] == b) {
        return i;
      }
    }
    throw new AssertionError("not found");
  }

  private static byte[] insert(byte[] a, int at, byte b) {
    byte[] out = new byte[a.length + 1];
    System.arraycopy(a, 0, out, 0, at);
    out[at] = b;
    System.arraycopy(a, at, out, at + 1, a.length - at);
    return out;
  }
}
