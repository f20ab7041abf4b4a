package dev.bloodbank;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.embedded.EmbeddedBroker;
import dev.bloodbank.fault.RabbitNode;
import dev.bloodbank.validation.ValidationMode;
import java.io.File;
import java.io.IOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Gives each integration test its own exchange, service name and queues on the real RabbitMQ at
 * localhost:5672, and deletes them afterwards, so tests run in any order.
 *
 * <p>A test class annotated {@link Embedded} gets the same resources on a fresh {@link
 * EmbeddedBroker} per test instead: subclassing an integration test with {@code @Embedded} runs all
 * of its tests on the embedded transport, so any difference from RabbitMQ fails a test. A test that
 * cannot run there says why with {@link RealBrokerOnly}.
 *
 * <p>A test class or method annotated {@link PrivateNode} runs on the private RabbitMQ node of the
 * fault suite ({@link RabbitNode#shared()}) instead: faults that hit every client of a broker
 * (closing all connections) are made there and nowhere else, so the broker on 5672, which people
 * and other suites use, never sees them.
 *
 * <p>When the real broker is unreachable the test fails if {@code CI} is set, and is skipped
 * otherwise. Inject a {@link Broker} parameter.
 */
public final class BrokerExtension
    implements BeforeEachCallback, AfterEachCallback, ParameterResolver, ExecutionCondition {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(BrokerExtension.class);

  /** Runs the annotated test class on a fresh embedded broker per test instead of RabbitMQ. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.TYPE)
  @Inherited
  public @interface Embedded {}

  /** A test that needs the real broker (faults, rabbitmqctl); skipped on the embedded one. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.METHOD)
  public @interface RealBrokerOnly {
    /** Why the embedded broker cannot run it. */
    String value();
  }

  /**
   * Runs the annotated test class or method on the fault suite's private RabbitMQ node, where
   * {@link Broker#closeAllConnections()} is allowed.
   */
  @Retention(RetentionPolicy.RUNTIME)
  @Target({ElementType.TYPE, ElementType.METHOD})
  @Inherited
  public @interface PrivateNode {
    /** Why the shared broker will not do. */
    String value();
  }

  static boolean privateNode(ExtensionContext context) {
    return context
            .getTestMethod()
            .map(m -> AnnotationSupport.isAnnotated(m, PrivateNode.class))
            .orElse(false)
        || context
            .getTestClass()
            .map(c -> AnnotationSupport.isAnnotated(c, PrivateNode.class))
            .orElse(false);
  }

  static boolean embedded(ExtensionContext context) {
    return context
        .getTestClass()
        .map(c -> AnnotationSupport.isAnnotated(c, Embedded.class))
        .orElse(false);
  }

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    if (embedded(context)) {
      RealBrokerOnly only =
          context
              .getTestMethod()
              .flatMap(m -> AnnotationSupport.findAnnotation(m, RealBrokerOnly.class))
              .orElse(null);
      if (only != null) {
        return ConditionEvaluationResult.disabled("real broker only: " + only.value());
      }
    }
    return ConditionEvaluationResult.enabled("");
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    if (embedded(context)) {
      context.getStore(NS).put("broker", new Broker(EmbeddedBroker.create(), null));
      return;
    }
    if (privateNode(context)) {
      context.getStore(NS).put("broker", new Broker(null, RabbitNode.shared()));
      return;
    }
    requireService("RabbitMQ", "127.0.0.1", 5672);
    context.getStore(NS).put("broker", new Broker(null, null));
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
    private final @Nullable EmbeddedBroker embedded;
    private final @Nullable RabbitNode node;
    private final int port;
    private final Connection raw;
    private final Channel rawChannel;

    Broker(@Nullable EmbeddedBroker embedded, @Nullable RabbitNode node) throws Exception {
      this.embedded = embedded;
      this.node = node;
      this.port = node != null ? node.port() : 5672;
      if (embedded != null) {
        raw = embedded.newConnection("test-raw-" + id);
      } else {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost("127.0.0.1");
        f.setPort(port);
        // Recovers like the SDK does, so tests that close all connections keep their observer.
        f.setAutomaticRecoveryEnabled(true);
        f.setNetworkRecoveryInterval(500);
        raw = f.newConnection("test-raw-" + id);
      }
      rawChannel = raw.createChannel();
      rawChannel.exchangeDeclare(exchange(), "topic", true);
    }

    /** Whether this test runs on the embedded broker. */
    public boolean isEmbedded() {
      return embedded != null;
    }

    /** The embedded broker, when the test runs on one. */
    public @Nullable EmbeddedBroker embeddedBroker() {
      return embedded;
    }

    /** Opens another raw connection to the test's broker (the caller closes it). */
    public Connection newConnection(String name) throws Exception {
      if (embedded != null) {
        return embedded.newConnection("test-" + name + "-" + id);
      }
      ConnectionFactory f = new ConnectionFactory();
      f.setHost("127.0.0.1");
      f.setPort(port);
      f.setAutomaticRecoveryEnabled(false);
      return f.newConnection("test-" + name + "-" + id);
    }

    /**
     * A queue as the broker describes it.
     *
     * @param type {@code classic} or {@code quorum}
     * @param arguments the declared arguments, values as strings
     * @param messagesReady ready messages
     * @param messagesUnacknowledged delivered, unacknowledged messages
     */
    public record QueueStats(
        String type,
        Map<String, String> arguments,
        int messagesReady,
        int messagesUnacknowledged) {}

    /**
     * The broker's view of its queues, by name: {@code rabbitmqctl list_queues} on RabbitMQ, the
     * broker's own state when embedded.
     */
    public Map<String, QueueStats> listQueues() throws Exception {
      Map<String, QueueStats> byName = new HashMap<>();
      if (embedded != null) {
        for (EmbeddedBroker.QueueInfo q : embedded.queues()) {
          Map<String, String> args = new HashMap<>();
          q.arguments().forEach((k, v) -> args.put(k, String.valueOf(v)));
          byName.put(
              q.name(),
              new QueueStats(q.type(), args, q.messagesReady(), q.messagesUnacknowledged()));
        }
        return byName;
      }
      return parseQueues(
          ctl(
              "list_queues",
              "name",
              "type",
              "arguments",
              "messages_ready",
              "messages_unacknowledged"),
          byName);
    }

    /**
     * Runs {@code rabbitmqctl -q <args> --formatter=json} against this test's RabbitMQ (the private
     * node when there is one) and parses what it prints.
     *
     * @throws IllegalStateException on the embedded broker
     */
    public JsonNode ctl(String... args) throws Exception {
      if (embedded != null) {
        throw new IllegalStateException("rabbitmqctl cannot reach the embedded broker");
      }
      List<String> all = new ArrayList<>(List.of(args));
      all.add("--formatter=json");
      if (node != null) {
        return new ObjectMapper().readTree(node.ctl(all.toArray(new String[0])));
      }
      List<String> cmd = new ArrayList<>(List.of("rabbitmqctl", "-q"));
      cmd.addAll(all);
      File out = File.createTempFile("rabbitmqctl", ".json");
      try {
        Process p =
            new ProcessBuilder(cmd)
                .redirectOutput(out)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new AssertionError("rabbitmqctl " + args[0] + " did not finish in 30 s");
        }
        if (p.exitValue() != 0) {
          throw new AssertionError("rabbitmqctl " + args[0] + " exited with " + p.exitValue());
        }
        return new ObjectMapper().readTree(out);
      } finally {
        Files.deleteIfExists(out.toPath());
      }
    }

    private static Map<String, QueueStats> parseQueues(
        JsonNode queues, Map<String, QueueStats> byName) {
      for (JsonNode q : queues) {
        // arguments: [[name, type, value], ...]
        Map<String, String> args = new HashMap<>();
        for (JsonNode a : q.get("arguments")) {
          args.put(a.get(0).asText(), a.get(2).asText());
        }
        byName.put(
            q.get("name").asText(),
            new QueueStats(
                q.get("type").asText(),
                args,
                q.get("messages_ready").asInt(),
                q.get("messages_unacknowledged").asInt()));
      }
      return byName;
    }

    /**
     * Closes every client connection of the broker, as an operator or a network fault would. Only
     * on the private node ({@link PrivateNode}): on the shared broker it would cut off everyone.
     */
    public void closeAllConnections() throws Exception {
      if (node == null) {
        throw new IllegalStateException(
            "closing every connection is only done on the private node: annotate the test with"
                + " @BrokerExtension.PrivateNode");
      }
      node.closeAllConnections();
    }

    /** The private node this test runs on, when it runs on one. */
    public @Nullable RabbitNode privateNode() {
      return node;
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
          .transport(embedded != null ? Transport.embedded(embedded) : Transport.amqp())
          .address("127.0.0.1", port)
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
      if (embedded != null) {
        embedded.close();
        return;
      }
      // A fresh connection: the test may have closed or broken the raw one.
      ConnectionFactory f = new ConnectionFactory();
      f.setHost("127.0.0.1");
      f.setPort(port);
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
