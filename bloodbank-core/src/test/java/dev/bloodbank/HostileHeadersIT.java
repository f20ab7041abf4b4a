package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.fault.RabbitNode;
import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Incoming events whose retry state and properties come from someone else (issue #15): a hostile
 * {@code x-bloodbank-attempts}, a producer's {@code expiration}, a foreign {@code user_id} (as a
 * shovel or an impersonating user can send). Each still reaches the dead-letter queue after at most
 * the configured attempts, and the others' retries go on unaffected. On a private node: the test
 * adds a user there.
 */
class HostileHeadersIT {

  @Test
  @Scenario(28)
  void hostileRetryStateAndForeignPropertiesEndInTheDeadLetterQueueAfterTheConfiguredAttempts()
      throws Exception {
    RabbitNode node = RabbitNode.shared();
    String id = UUID.randomUUID().toString().substring(0, 8);
    String user = "bb-impersonator-" + id;
    String password = UUID.randomUUID().toString();
    node.ctl("add_user", user, password);
    try (Bloodbank bus = Bloodbank.connect(node.options(id).build())) {
      // May set any user_id, as a shovel or federation link does.
      node.ctl("set_user_tags", user, "impersonator");
      node.ctl("set_permissions", "-p", "/", user, ".*", ".*", ".*");
      Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
      int maxAttempts = 3;
      Subscriber s =
          bus.subscribe(
              SubscriberOptions.builder("hostile.#")
                  .maxAttempts(maxAttempts)
                  .retryDelays(List.of(Duration.ofMillis(50)))
                  .build(),
              event -> {
                calls
                    .computeIfAbsent(event.eventId().toString(), k -> new AtomicInteger())
                    .incrementAndGet();
                throw new IllegalStateException("always fails");
              });

      Map<String, AMQP.BasicProperties> sent = new LinkedHashMap<>();
      sent.put("plain", props(null, null, null));
      sent.put("attempts-min", props(Integer.MIN_VALUE, null, null));
      sent.put("attempts-negative", props(-1, null, null));
      sent.put("attempts-text", props("abc", null, null));
      sent.put("attempts-huge", props(9_999_999_999L, null, null));
      sent.put("attempts-last", props(maxAttempts - 1, null, null));
      sent.put("expiring", props(null, "5000", null));
      sent.put("foreign-user", props(null, null, "someone-else"));
      Map<String, String> idOf = new HashMap<>();
      ConnectionFactory f = new ConnectionFactory();
      f.setHost("127.0.0.1");
      f.setPort(node.port());
      f.setUsername(user);
      f.setPassword(password);
      try (Connection c = f.newConnection("hostile-producer");
          Channel ch = c.createChannel()) {
        for (Map.Entry<String, AMQP.BasicProperties> e : sent.entrySet()) {
          EventEnvelope<Map<String, String>> event =
              EventEnvelope.builder("hostile." + e.getKey(), Map.of("case", e.getKey())).build();
          idOf.put(e.getKey(), event.eventId().toString());
          AMQP.BasicProperties p =
              e.getValue().builder().messageId(event.eventId().toString()).build();
          ch.basicPublish(
              bus.options().exchange(), event.eventType(), p, bus.codec().encode(event));
        }
      }

      Map<String, GetResponse> dead = new HashMap<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      try (Connection c = node.rawConnection("dlq");
          Channel ch = c.createChannel()) {
        while (dead.size() < sent.size() && System.nanoTime() < deadline) {
          GetResponse r = ch.basicGet(s.deadLetterQueueName(), true);
          if (r == null) {
            Thread.sleep(50);
          } else {
            dead.put(r.getProps().getMessageId(), r);
          }
        }
      }
      Map<String, Integer> attempts = new LinkedHashMap<>();
      sent.keySet()
          .forEach(
              k -> attempts.put(k, calls.getOrDefault(idOf.get(k), new AtomicInteger()).get()));
      System.out.printf("scenario 28: handler calls by case %s%n", attempts);
      ReliabilityReport.events(
          28,
          sent.size(),
          sent.keySet().stream().filter(k -> !dead.containsKey(idOf.get(k))).count(),
          0);
      assertThat(dead.keySet())
          .as("dead-lettered")
          .containsExactlyInAnyOrderElementsOf(idOf.values());
      assertThat(attempts)
          .containsEntry("plain", 3)
          .containsEntry("attempts-min", 3)
          .containsEntry("attempts-negative", 3)
          .containsEntry("attempts-text", 3)
          .containsEntry("attempts-huge", 1)
          .containsEntry("attempts-last", 1)
          .containsEntry("expiring", 3)
          .containsEntry("foreign-user", 3);
      for (GetResponse r : dead.values()) {
        Map<String, Object> h = r.getProps().getHeaders();
        assertThat(String.valueOf(h.get(FailureHeaders.REASON)))
            .as("dead-lettered by the subscriber, not by the broker")
            .isEqualTo(FailureHeaders.REASON_HANDLER_FAILED);
        assertThat(r.getProps().getExpiration()).isNull();
        assertThat(r.getProps().getUserId()).isNull();
      }
      GetResponse expiring = dead.get(idOf.get("expiring"));
      assertThat(
              String.valueOf(
                  expiring.getProps().getHeaders().get(FailureHeaders.ORIGINAL_EXPIRATION)))
          .isEqualTo("5000");
      GetResponse foreign = dead.get(idOf.get("foreign-user"));
      assertThat(
              String.valueOf(foreign.getProps().getHeaders().get(FailureHeaders.ORIGINAL_USER_ID)))
          .isEqualTo("someone-else");
      try (Connection c = node.rawConnection("cleanup");
          Channel ch = c.createChannel()) {
        ch.queueDelete(s.queueName());
        ch.queueDelete(s.deadLetterQueueName());
        ch.queueDelete(s.queueName() + ".retry.50");
        ch.exchangeDelete(bus.options().exchange());
      }
    } finally {
      node.ctl("delete_user", user);
    }
  }

  private static AMQP.BasicProperties props(Object attempts, String expiration, String userId) {
    Map<String, Object> headers = new HashMap<>();
    if (attempts != null) {
      headers.put(FailureHeaders.ATTEMPTS, attempts);
    }
    return new AMQP.BasicProperties.Builder()
        .contentType("application/json")
        .deliveryMode(2)
        .headers(headers)
        .expiration(expiration)
        .userId(userId)
        .build();
  }
}
