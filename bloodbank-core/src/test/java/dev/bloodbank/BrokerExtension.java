package dev.bloodbank;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.validation.ValidationMode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives each integration test its own exchange, service name and queues on the real RabbitMQ at
 * localhost:5672, and deletes them afterwards, so tests run in any order.
 *
 * <p>When the broker is unreachable the test fails if {@code CI} is set, and is skipped otherwise.
 * Inject a {@link Broker} parameter.
 */
public final class BrokerExtension
    implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(BrokerExtension.class);

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    requireService("RabbitMQ", "127.0.0.1", 5672);
    context.getStore(NS).put("broker", new Broker());
  }

  @Override
  public void afterEach(ExtensionContext context) {
    Broker b = context.getStore(NS).remove("broker", Broker.class);
    if (b != null) {
      b.cleanUp();
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
    return p.getParameter().getType() == Broker.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext e) {
    return e.getStore(NS).get("broker", Broker.class);
  }

  /** Fails under CI, skips otherwise, when a service is not listening. */
  public static void requireService(String name, String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 2000);
    } catch (IOException e) {
      String msg = name + " is not reachable at " + host + ":" + port + " (" + e.getMessage() + ")";
      if (System.getenv("CI") != null) {
        throw new AssertionError(msg + "; integration tests need it when CI is set");
      }
      Assumptions.abort(msg);
    }
  }

  /** One test's broker resources. Not thread-safe except where noted. */
  public static final class Broker {
    private final String id = UUID.randomUUID().toString().substring(0, 8);
    private final List<Bloodbank> buses = new CopyOnWriteArrayList<>();
    private final List<String> queues = new CopyOnWriteArrayList<>();
    private final Connection raw;
    private final Channel rawChannel;

    Broker() throws Exception {
      ConnectionFactory f = new ConnectionFactory();
      f.setHost("127.0.0.1");
      // Recovers like the SDK does, so tests that close all connections keep their observer.
      f.setAutomaticRecoveryEnabled(true);
      f.setNetworkRecoveryInterval(500);
      raw = f.newConnection("test-raw-" + id);
      rawChannel = raw.createChannel();
      rawChannel.exchangeDeclare(exchange(), "topic", true);
    }

    /** The test's own exchange. */
    public String exchange() {
      return "bloodbank.test." + id;
    }

    /** The test's own service name, the prefix of its default queue names. */
    public String serviceName() {
      return "test-" + id;
    }

    /**
     * Options for this test's exchange and service, with quick recovery and permissive validation
     * (tests publish ad-hoc event types that no catalog holds).
     */
    public BloodbankOptions.Builder options() {
      return BloodbankOptions.builder()
          .exchange(exchange())
          .serviceName(serviceName())
          .recoveryInterval(Duration.ofMillis(500))
          .validation(ValidationMode.PERMISSIVE);
    }

    /** Connects a bus with {@link #options()}; closed after the test. */
    public Bloodbank connect() {
      return connect(UnaryOperator.identity());
    }

    /** Connects a bus with changed options; closed after the test. */
    public Bloodbank connect(UnaryOperator<BloodbankOptions.Builder> change) {
      Bloodbank bus = Bloodbank.connect(change.apply(options()).build());
      buses.add(bus);
      return bus;
    }

    /** A unique queue name for this test, deleted afterwards with its retry and DLQ queues. */
    public String queueName(String suffix) {
      String name = serviceName() + "-" + suffix;
      track(name);
      return name;
    }

    /** Deletes this queue (and its .dlq and retry queues) after the test. */
    public void track(String queue) {
      queues.add(queue);
    }

    /** Tracks a subscriber's queues (main, dead-letter, retry) for deletion. */
    public Subscriber track(Subscriber s) {
      track(s.queueName());
      for (Duration d : s.options().retryDelays()) {
        queues.add(s.queueName() + ".retry." + d.toMillis());
      }
      return s;
    }

    /** A raw channel, outside the SDK, for setting up and observing. */
    public Channel raw() {
      return rawChannel;
    }

    /** Declares a raw queue bound to the test exchange with these patterns. */
    public String rawQueue(String... patterns) throws IOException {
      String q = queueName("raw-" + UUID.randomUUID().toString().substring(0, 6));
      rawChannel.queueDeclare(q, true, false, false, null);
      for (String p : patterns) {
        rawChannel.queueBind(q, exchange(), p);
      }
      return q;
    }

    /** Fetches up to {@code max} messages from a queue, waiting at most {@code wait} for them. */
    public List<GetResponse> drain(String queue, int max, Duration wait) throws Exception {
      List<GetResponse> out = new ArrayList<>();
      long deadline = System.nanoTime() + wait.toNanos();
      while (out.size() < max && System.nanoTime() < deadline) {
        GetResponse r;
        try {
          r = rawChannel.basicGet(queue, true);
        } catch (com.rabbitmq.client.AlreadyClosedException e) {
          r = null; // recovering
        }
        if (r == null) {
          Thread.sleep(20);
        } else {
          out.add(r);
        }
      }
      return out;
    }

    /** Number of ready messages in a queue, or -1 while the raw connection recovers. */
    public long messageCount(String queue) throws IOException {
      try {
        return rawChannel.messageCount(queue);
      } catch (com.rabbitmq.client.AlreadyClosedException e) {
        return -1; // the raw connection is recovering after a forced close; ask again
      }
    }

    void cleanUp() {
      for (Bloodbank b : buses) {
        try {
          b.close();
        } catch (RuntimeException e) {
          // best effort
        }
      }
      // A fresh connection: the test may have closed or broken the raw one.
      ConnectionFactory f = new ConnectionFactory();
      f.setHost("127.0.0.1");
      try (Connection c = f.newConnection("test-cleanup-" + id)) {
        for (String q : queues) {
          for (String name : List.of(q, q + ".dlq")) {
            deleteQuietly(c, name);
          }
        }
        try (Channel ch = c.createChannel()) {
          ch.exchangeDelete(exchange());
        } catch (Exception e) {
          // absent
        }
      } catch (Exception e) {
        // best effort
      }
      try {
        raw.abort(1000);
      } catch (RuntimeException e) {
        // closed already
      }
    }

    private static void deleteQuietly(Connection c, String queue) {
      try (Channel ch = c.createChannel()) {
        ch.queueDelete(queue);
      } catch (Exception e) {
        // absent
      }
    }
  }
}
