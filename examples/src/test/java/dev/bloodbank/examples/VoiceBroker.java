package dev.bloodbank.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.BloodbankOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Assumptions;

/**
 * One test's exchange on the real RabbitMQ at localhost:5672, with a queue bound to {@code
 * transcription.voice.completed} that sees what the examples publish; both deleted on close. When
 * RabbitMQ is not there the test fails if {@code CI} is set and is skipped otherwise.
 */
final class VoiceBroker implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String id = UUID.randomUUID().toString().substring(0, 8);
  private final Connection connection;
  private final Channel channel;
  private final String queue = "test-voice-" + id + "-events";

  private VoiceBroker() throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setHost("127.0.0.1");
    // Other suites on the shared broker force-close connections (fault tests): recover like the
    // SDK does; the queue is durable, so nothing published meanwhile is lost.
    f.setAutomaticRecoveryEnabled(true);
    f.setNetworkRecoveryInterval(500);
    connection = f.newConnection("test-voice-" + id);
    channel = connection.createChannel();
    channel.exchangeDeclare(exchange(), "topic", true);
    channel.queueDeclare(queue, true, false, false, null);
    channel.queueBind(queue, exchange(), "transcription.voice.completed");
  }

  static VoiceBroker start() throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", 5672), 2000);
    } catch (IOException e) {
      String msg = "RabbitMQ is not reachable at 127.0.0.1:5672 (" + e.getMessage() + ")";
      if (System.getenv("CI") != null) {
        throw new AssertionError(msg + "; integration tests need it when CI is set");
      }
      Assumptions.abort(msg);
    }
    return new VoiceBroker();
  }

  String exchange() {
    return "bloodbank.test.voice-" + id;
  }

  /** Options for a bus on this test's exchange, at localhost:5672. */
  BloodbankOptions options() {
    return BloodbankOptions.builder().exchange(exchange()).serviceName("test-voice-" + id).build();
  }

  /** The events received, waiting up to {@code wait} for {@code max} of them. */
  List<JsonNode> drain(int max, Duration wait) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    long deadline = System.nanoTime() + wait.toNanos();
    while (out.size() < max && System.nanoTime() < deadline) {
      GetResponse r;
      try {
        r = channel.basicGet(queue, true);
      } catch (AlreadyClosedException | IOException e) {
        r = null; // the channel is recovering after a forced close
      }
      if (r == null) {
        Thread.sleep(20);
      } else {
        JsonNode event = JSON.readTree(r.getBody());
        if (!r.getProps().getMessageId().equals(event.get("event_id").asText())) {
          throw new AssertionError("message id is not the event id: " + event);
        }
        out.add(event);
      }
    }
    return out;
  }

  @Override
  public void close() throws IOException, TimeoutException {
    // A fresh connection: the test's own may be recovering.
    ConnectionFactory f = new ConnectionFactory();
    f.setHost("127.0.0.1");
    try (Connection c = f.newConnection("test-voice-cleanup-" + id);
        Channel ch = c.createChannel()) {
      ch.queueDelete(queue);
      ch.exchangeDelete(exchange());
    } finally {
      connection.abort(1000);
    }
  }
}
