package dev.bloodbank.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.fault.RabbitNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Readiness and publishing under broker faults, on the fault suite's private RabbitMQ node (the
 * broker on 5672 is never alarmed or stopped): {@code /healthz} turns 503 with the reason while the
 * broker blocks publishing or is down, {@code /health} stays 200, a publish answers 503 at once or
 * within the publish timeout (never 202, never a hang), and both recover when the fault clears.
 */
@ExtendWith(BrokerExtension.class)
@BrokerExtension.PrivateNode("raises memory alarms and stops the broker application")
class GatewayFaultIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PROMPT =
      "{\"provider\":\"anthropic\",\"model\":\"claude\",\"prompt\":\"hi\"}";
  private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(2);

  /** The longest any single HTTP request may take; a hung request fails the test. */
  private static final Duration REQUEST_TIMEOUT = PUBLISH_TIMEOUT.plusSeconds(8);

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private @Nullable BloodbankServer server;
  private @Nullable RabbitNode node;
  private boolean alarmed;
  private boolean appStopped;

  /** An HTTP answer with its body parsed as JSON, and how long it took. */
  private record Answer(int status, JsonNode json, HttpResponse<String> response, Duration took) {}

  @AfterEach
  void stop() throws Exception {
    List<Throwable> failures = new ArrayList<>();
    try {
      if (server != null) {
        server.close();
      }
    } catch (RuntimeException e) {
      failures.add(e);
    }
    // Whatever the test did to the node is undone before the next test uses it.
    if (node != null && alarmed) {
      try {
        node.memoryAlarm(false);
      } catch (Exception e) {
        failures.add(e);
      }
    }
    if (node != null && appStopped) {
      try {
        node.startApp();
      } catch (Exception e) {
        failures.add(e);
      }
    }
    if (!failures.isEmpty()) {
      AssertionError e = new AssertionError("clean-up failed");
      failures.forEach(e::addSuppressed);
      throw e;
    }
  }

  private BloodbankServer start(BrokerExtension.Broker broker) {
    node = Objects.requireNonNull(broker.privateNode(), "runs on the private node");
    server =
        BloodbankServer.start(
            ServerOptions.builder()
                .host("127.0.0.1")
                .port(0)
                .bus(broker.options().build())
                .publishTimeout(PUBLISH_TIMEOUT)
                .shutdownTimeout(Duration.ofSeconds(5))
                .build());
    return server;
  }

  private Answer send(HttpRequest.Builder b) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r;
    try {
      r = http.send(b.timeout(REQUEST_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
    } catch (HttpTimeoutException e) {
      throw new AssertionError("no answer within " + REQUEST_TIMEOUT + ": the request hangs", e);
    }
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    JsonNode json = r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
    return new Answer(r.statusCode(), json, r, took);
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  private Answer get(String path) throws Exception {
    return send(HttpRequest.newBuilder(uri(path)).GET());
  }

  private Answer publishPrompt() throws Exception {
    return send(
        HttpRequest.newBuilder(uri("/events/llm.prompt"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(PROMPT, StandardCharsets.UTF_8)));
  }

  /** Polls {@code /healthz} until it answers {@code status}; fails after {@code wait}. */
  private Answer awaitHealthz(int status, Duration wait) throws Exception {
    long deadline = System.nanoTime() + wait.toNanos();
    Answer last = get("/healthz");
    while (last.status() != status) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "/healthz did not answer " + status + " within " + wait + "; last: " + last.json());
      }
      Thread.sleep(100);
      last = get("/healthz");
    }
    return last;
  }

  /**
   * Waits up to {@code wait} for the event {@code id} on {@code queue}; returns every event id
   * taken from the queue meanwhile.
   */
  private static List<String> awaitEvent(
      BrokerExtension.Broker broker, String queue, String id, Duration wait) throws Exception {
    List<String> ids = new ArrayList<>();
    long deadline = System.nanoTime() + wait.toNanos();
    // A fresh connection: the extension's raw one may still be recovering from a fault.
    try (Connection c = broker.newConnection("fault-drain");
        Channel ch = c.createChannel()) {
      while (!ids.contains(id) && System.nanoTime() < deadline) {
        GetResponse r = ch.basicGet(queue, true);
        if (r == null) {
          Thread.sleep(20);
        } else {
          ids.add(JSON.readTree(r.getBody()).get("event_id").asText());
        }
      }
    }
    return ids;
  }

  private static void assertReady(Answer a) {
    assertThat(a.status()).as("%s", a.json()).isEqualTo(200);
    assertThat(a.json().get("ready").asBoolean()).isTrue();
    assertThat(a.json().get("reasons")).isEmpty();
    assertThat(a.json().at("/broker/connected").asBoolean()).isTrue();
    assertThat(a.json().at("/broker/blocked").isNull()).isTrue();
  }

  private void assertPublishedTo(BrokerExtension.Broker broker, String queue) throws Exception {
    Answer ok = publishPrompt();
    assertThat(ok.status()).as("%s", ok.json()).isEqualTo(202);
    assertThat(ok.json().get("status").asText()).isEqualTo("published");
    String id = ok.json().get("event_id").asText();
    assertThat(awaitEvent(broker, queue, id, Duration.ofSeconds(10))).contains(id);
  }

  /**
   * Readiness is false whenever the broker blocks publishing, also while nobody publishes: a load
   * balancer must stop sending publishes before the first one fails.
   */
  @Test
  void aMemoryAlarmMakesReadiness503BeforeAnyoneTriesToPublish(BrokerExtension.Broker broker)
      throws Exception {
    start(broker);
    broker.rawQueue("llm.prompt");
    assertReady(get("/healthz"));

    node.memoryAlarm(true);
    alarmed = true;

    Answer blocked = awaitHealthz(503, Duration.ofSeconds(10));
    assertThat(blocked.json().get("ready").asBoolean()).isFalse();
    assertThat(blocked.json().at("/broker/connected").asBoolean()).isTrue();
    assertThat(blocked.json().at("/broker/blocked").asText())
        .as("the broker's reason")
        .isNotBlank();
    assertThat(blocked.json().get("reasons").toString()).contains("blocks publishing");
    assertThat(get("/health").status()).as("liveness is not readiness").isEqualTo(200);
  }

  @Test
  void underAMemoryAlarmPublishing503sWithoutHangingHealthzSaysBlockedAndBothRecover(
      BrokerExtension.Broker broker) throws Exception {
    start(broker);
    String queue = broker.rawQueue("llm.prompt");
    assertReady(get("/healthz"));
    assertPublishedTo(broker, queue);

    node.memoryAlarm(true);
    alarmed = true;

    // The first publish may be the one that makes the broker say it blocks: never 202, and no
    // longer than the publish timeout.
    Answer first = publishPrompt();
    assertThat(first.status()).as("%s", first.json()).isEqualTo(503);
    assertThat(first.json().get("error").asText()).isIn("broker_blocked", "broker_timeout");
    assertThat(first.took()).isLessThan(PUBLISH_TIMEOUT.plusSeconds(2));

    Answer blocked = awaitHealthz(503, Duration.ofSeconds(10));
    assertThat(blocked.json().get("ready").asBoolean()).isFalse();
    assertThat(blocked.json().at("/broker/connected").asBoolean()).isTrue();
    assertThat(blocked.json().at("/broker/blocked").asText())
        .as("the broker's reason")
        .isNotBlank();
    assertThat(blocked.json().get("reasons").toString()).contains("blocks publishing");

    Answer alive = get("/health");
    assertThat(alive.status()).as("liveness is not readiness").isEqualTo(200);
    assertThat(alive.json().get("status").asText()).isEqualTo("alive");

    Answer refused = publishPrompt();
    assertThat(refused.status()).as("%s", refused.json()).isEqualTo(503);
    assertThat(refused.json().get("error").asText()).isEqualTo("broker_blocked");
    assertThat(refused.json().get("message").asText()).contains("blocks publishing");
    assertThat(refused.response().headers().firstValue("Retry-After")).isPresent();
    assertThat(refused.response().headers().firstValue("X-Request-Id")).isPresent();
    assertThat(refused.took())
        .as("refused at once, without waiting for a confirm")
        .isLessThan(PUBLISH_TIMEOUT);

    node.memoryAlarm(false);
    alarmed = false;
    assertReady(awaitHealthz(200, Duration.ofSeconds(30)));
    assertPublishedTo(broker, queue);
  }

  @Test
  void withTheBrokerAppStoppedReadinessSaysDisconnectedPublishingIs503AndBothRecover(
      BrokerExtension.Broker broker) throws Exception {
    start(broker);
    String queue = broker.rawQueue("llm.prompt");
    assertReady(get("/healthz"));

    node.stopApp();
    appStopped = true;

    // At once, before the server may have noticed: never 202, and no longer than a confirm wait.
    Answer first = publishPrompt();
    assertThat(first.status()).as("%s", first.json()).isEqualTo(503);
    assertThat(first.took()).isLessThan(PUBLISH_TIMEOUT.plusSeconds(2));

    Answer down = awaitHealthz(503, Duration.ofSeconds(15));
    Answer now = down;
    // Readiness may say blocked or draining first; wait for the disconnect itself.
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (now.json().at("/broker/connected").asBoolean(true) && System.nanoTime() < deadline) {
      Thread.sleep(100);
      now = get("/healthz");
    }
    assertThat(now.status()).isEqualTo(503);
    assertThat(now.json().get("ready").asBoolean()).isFalse();
    assertThat(now.json().at("/broker/connected").asBoolean()).as("%s", now.json()).isFalse();
    assertThat(now.json().get("reasons").toString()).contains("broker unreachable");

    assertThat(get("/health").status()).isEqualTo(200);

    Answer refused = publishPrompt();
    assertThat(refused.status()).as("%s", refused.json()).isEqualTo(503);
    assertThat(refused.json().get("error").asText()).isEqualTo("broker_unreachable");
    assertThat(refused.response().headers().firstValue("Retry-After")).isPresent();
    assertThat(refused.took()).isLessThan(PUBLISH_TIMEOUT.plusSeconds(1));

    node.startApp();
    appStopped = false;
    assertReady(awaitHealthz(200, Duration.ofSeconds(60)));
    assertPublishedTo(broker, queue);
  }
}
