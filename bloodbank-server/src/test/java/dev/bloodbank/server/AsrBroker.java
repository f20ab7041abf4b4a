package dev.bloodbank.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.voice.Transcriber;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One {@link AsrIT} test's exchange ({@code bloodbank.test.asr-<8 hex>}) on the real RabbitMQ at
 * 127.0.0.1:5672, with a raw queue bound to {@value Transcriber#EVENT_TYPE} that sees what the
 * server publishes; both are deleted on close. When RabbitMQ is not there the test fails if {@code
 * CI} is set and is skipped otherwise. Not thread-safe.
 */
final class AsrBroker implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String id = UUID.randomUUID().toString().substring(0, 8);
  private final String queue = "test-asr-" + id + "-events";
  private final Connection connection;
  private final Channel channel;

  private AsrBroker() throws Exception {
    connection = factory().newConnection("test-asr-" + id);
    channel = connection.createChannel();
    channel.exchangeDeclare(exchange(), "topic", true);
    channel.queueDeclare(queue, true, false, false, null);
    channel.queueBind(queue, exchange(), Transcriber.EVENT_TYPE);
  }

  /** Declares the exchange and queue; fails under {@code CI}, skips otherwise, without RabbitMQ. */
  static AsrBroker start() throws Exception {
    BrokerExtension.requireService("RabbitMQ", "127.0.0.1", 5672);
    return new AsrBroker();
  }

  private static ConnectionFactory factory() {
    ConnectionFactory f = new ConnectionFactory();
    f.setHost("127.0.0.1");
    f.setPort(5672);
    f.setUsername("guest");
    f.setPassword("guest");
    // Recovers like the SDK does; the queue is durable, so nothing published meanwhile is lost.
    f.setAutomaticRecoveryEnabled(true);
    f.setNetworkRecoveryInterval(500);
    return f;
  }

  String exchange() {
    return "bloodbank.test.asr-" + id;
  }

  /** Bus options for this test's exchange on 127.0.0.1:5672. */
  BloodbankOptions options() {
    return BloodbankOptions.builder()
        .address("127.0.0.1", 5672)
        .credentials("guest", "guest")
        .exchange(exchange())
        .serviceName("test-asr-" + id)
        .recoveryInterval(Duration.ofMillis(500))
        .build();
  }

  /**
   * The events received, waiting up to {@code wait} for {@code max} of them; each message's id is
   * checked to be its event's id.
   */
  List<JsonNode> drain(int max, Duration wait) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    long deadline = System.nanoTime() + wait.toNanos();
    while (out.size() < max && System.nanoTime() < deadline) {
      GetResponse r;
      try {
        r = channel.basicGet(queue, true);
      } catch (AlreadyClosedException | IOException e) {
        r = null; // the channel is recovering
      }
      if (r == null) {
        Thread.sleep(20);
        continue;
      }
      JsonNode event = JSON.readTree(r.getBody());
      String messageId = r.getProps().getMessageId();
      if (messageId == null || !messageId.equals(event.path("event_id").asText())) {
        throw new AssertionError("message id " + messageId + " is not the event id: " + event);
      }
      out.add(event);
    }
    return out;
  }

  @Override
  public void close() throws Exception {
    // A fresh connection: the test's own may be recovering.
    ConnectionFactory f = factory();
    f.setAutomaticRecoveryEnabled(false);
    try (Connection c = f.newConnection("test-asr-cleanup-" + id);
        Channel ch = c.createChannel()) {
      ch.queueDelete(queue);
      ch.exchangeDelete(exchange());
    } finally {
      connection.abort(1000);
    }
  }
}
