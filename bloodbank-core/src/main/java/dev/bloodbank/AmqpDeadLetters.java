package dev.bloodbank;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import com.rabbitmq.client.ShutdownSignalException;
import dev.bloodbank.deadletter.DeadLetter;
import dev.bloodbank.deadletter.DeadLetterQueueInfo;
import dev.bloodbank.deadletter.DeadLetterReplayOptions;
import dev.bloodbank.deadletter.DeadLetterReplayOptions.DeadLetterListener;
import dev.bloodbank.deadletter.DeadLetterReplayResult;
import dev.bloodbank.deadletter.DeadLetters;
import dev.bloodbank.internal.LogSafe;
import dev.bloodbank.internal.Pacer;
import dev.bloodbank.internal.TopicMatcher;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link DeadLetters} over the bus's connections: reads on the consuming one, moves on the
 * publishing one with confirms, each call on channels of its own.
 */
final class AmqpDeadLetters implements DeadLetters {
  private static final Logger LOG = LoggerFactory.getLogger(AmqpDeadLetters.class);

  /**
   * Counts the replays of one message out of a dead-letter queue, so that an operator can see a
   * message that keeps failing.
   */
  static final String REPLAYS = "x-bloodbank-dead-letter-replays";

  /** What a copy moved back must not carry: the consumer starts over with all its attempts. */
  private static final Set<String> FAILURE_ONLY =
      Set.of(
          FailureHeaders.REASON,
          FailureHeaders.ERROR_CLASS,
          FailureHeaders.ERROR_MESSAGE,
          FailureHeaders.ATTEMPTS,
          FailureHeaders.QUEUE,
          FailureHeaders.FIRST_FAILURE,
          FailureHeaders.LAST_FAILURE,
          FailureHeaders.VIOLATIONS,
          "x-death",
          "x-first-death-queue",
          "x-first-death-reason",
          "x-first-death-exchange",
          "x-last-death-queue",
          "x-last-death-reason",
          "x-last-death-exchange");

  private static final ObjectMapper ENVELOPE_READER = new ObjectMapper();

  private final BusConnections connections;
  private final BooleanSupplier open;

  AmqpDeadLetters(BusConnections connections, BooleanSupplier open) {
    this.connections = connections;
    this.open = open;
  }

  @Override
  public DeadLetterQueueInfo inspect(String queue) {
    java.util.Objects.requireNonNull(queue, "queue");
    Channel ch = channel(connections.consuming(), queue);
    try {
      AMQP.Queue.DeclareOk ok = ch.queueDeclarePassive(queue);
      return new DeadLetterQueueInfo(queue, ok.getMessageCount(), ok.getConsumerCount());
    } catch (IOException | ShutdownSignalException e) {
      throw failure(queue, "cannot inspect", e);
    } finally {
      BusConnections.closeQuietly(ch);
    }
  }

  @Override
  public List<DeadLetter> peek(String queue, int limit) {
    java.util.Objects.requireNonNull(queue, "queue");
    if (limit < 1 || limit > DeadLetters.MAX_PEEK) {
      throw new IllegalArgumentException(
          "limit must be from 1 to " + DeadLetters.MAX_PEEK + ", got " + limit);
    }
    Channel ch = channel(connections.consuming(), queue);
    List<DeadLetter> letters = new ArrayList<>();
    try {
      ch.queueDeclarePassive(queue);
      for (int i = 0; i < limit; i++) {
        GetResponse r = ch.basicGet(queue, false);
        if (r == null) {
          break;
        }
        letters.add(letter(queue, r.getProps(), r.getBody()));
      }
      return letters;
    } catch (IOException | ShutdownSignalException e) {
      throw failure(queue, "cannot read", e);
    } finally {
      // Closing the channel returns every message it took, in their order.
      BusConnections.closeQuietly(ch);
    }
  }

  @Override
  public long purge(String queue) {
    java.util.Objects.requireNonNull(queue, "queue");
    Channel ch = channel(connections.consuming(), queue);
    try {
      ch.queueDeclarePassive(queue);
      long n = ch.queuePurge(queue).getMessageCount();
      LOG.info("purged {} message(s) from queue '{}'", n, LogSafe.escape(queue));
      return n;
    } catch (IOException | ShutdownSignalException e) {
      throw failure(queue, "cannot purge", e);
    } finally {
      BusConnections.closeQuietly(ch);
    }
  }

  @Override
  public DeadLetterReplayResult replay(DeadLetterReplayOptions options) {
    java.util.Objects.requireNonNull(options, "options");
    String queue = options.queue();
    DeadLetterListener listener = options.listener().orElse(null);
    Channel get = channel(connections.consuming(), queue);
    Channel pub = null;
    boolean interrupted = false;
    long moved = 0;
    long skipped = 0;
    long unmovable = 0;
    Set<String> problems = new LinkedHashSet<>();
    Map<String, Boolean> targets = new HashMap<>();
    Returns returns = new Returns();
    Pacer pacer = new Pacer(options.rate());
    try {
      long present = get.queueDeclarePassive(queue).getMessageCount();
      if (!options.dryRun()) {
        pub = channel(connections.requirePublishing(), queue);
        pub.confirmSelect();
        pub.addReturnListener(returns);
      }
      for (long seen = 0; seen < present && moved < options.limit(); seen++) {
        if (!paced(pacer)) {
          interrupted = true;
          break;
        }
        GetResponse r = get.basicGet(queue, false);
        if (r == null) {
          break;
        }
        DeadLetter letter = letter(queue, r.getProps(), r.getBody());
        if (!matches(options.patterns(), letter.routingKey())) {
          skipped++;
          if (listener != null) {
            listener.left(letter, "routing key does not match " + options.patterns());
          }
          continue;
        }
        String target = options.toQueue().orElse(letter.failedQueue());
        String problem = null;
        if (target == null) {
          problem =
              "no failed queue recorded (no "
                  + FailureHeaders.QUEUE
                  + " or x-death header): give a target queue";
        } else if (!targets.computeIfAbsent(target, this::exists)) {
          problem = "target queue '" + target + "' does not exist";
        } else if (!options.dryRun()) {
          problem = publish(pub, returns, target, r, options);
        }
        if (problem != null) {
          unmovable++;
          problems.add(problem);
          if (listener != null) {
            listener.left(letter, problem);
          }
          continue;
        }
        if (!options.dryRun()) {
          get.basicAck(r.getEnvelope().getDeliveryTag(), false);
        }
        moved++;
        if (listener != null) {
          listener.moved(letter, target);
        }
        if (Thread.currentThread().isInterrupted()) {
          // An interrupt while the confirm was awaited: that message is done, the rest stay.
          Thread.interrupted();
          interrupted = true;
          break;
        }
      }
    } catch (IOException | ShutdownSignalException e) {
      throw failure(queue, "cannot replay", e);
    } finally {
      // Returns what was skipped, left or merely counted by a dry run, in its order.
      BusConnections.closeQuietly(get);
      if (pub != null) {
        BusConnections.closeQuietly(pub);
      }
    }
    long remaining = inspect(queue).messages();
    LOG.info(
        "dead-letter replay of '{}': moved {}, skipped {}, unmovable {}, {} remaining{}",
        LogSafe.escape(queue),
        moved,
        skipped,
        unmovable,
        remaining,
        interrupted ? " (interrupted)" : "");
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return new DeadLetterReplayResult(
        queue, moved, skipped, unmovable, remaining, interrupted, new ArrayList<>(problems));
  }

  /**
   * Publishes a copy and waits for its confirm, through an interrupt (which is kept for the caller
   * to see): a copy in doubt would be moved again by the next replay.
   *
   * @return why it was not moved, or null when confirmed
   * @throws BloodbankException when the broker nacks it or does not confirm in time
   */
  private static @Nullable String publish(
      Channel pub, Returns returns, String target, GetResponse r, DeadLetterReplayOptions options)
      throws IOException {
    returns.last = null;
    pub.basicPublish("", target, true, movedProperties(r.getProps()), r.getBody());
    long deadline = System.nanoTime() + options.confirmTimeout().toNanos();
    boolean wasInterrupted = false;
    try {
      while (true) {
        try {
          long left = deadline - System.nanoTime();
          if (!pub.waitForConfirms(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)))) {
            throw new BloodbankException(
                "the broker refused (nack) the copy of "
                    + describe(r)
                    + " to queue '"
                    + target
                    + "'; it stays in '"
                    + options.queue()
                    + "'");
          }
          break;
        } catch (InterruptedException e) {
          wasInterrupted = true;
        } catch (TimeoutException e) {
          throw new BloodbankException(
              "no confirm within "
                  + options.confirmTimeout()
                  + " for the copy of "
                  + describe(r)
                  + " to queue '"
                  + target
                  + "'; it stays in '"
                  + options.queue()
                  + "' and may be moved twice",
              e);
        }
      }
    } finally {
      if (wasInterrupted) {
        Thread.currentThread().interrupt();
      }
    }
    String returned = returns.last;
    return returned == null ? null : "queue '" + target + "' refused it: " + returned;
  }

  private static String describe(GetResponse r) {
    String id = r.getProps().getMessageId();
    return id == null ? "a message without id" : "event " + LogSafe.escape(id);
  }

  /** The message's properties without its failure headers, counting its replays. */
  static AMQP.BasicProperties movedProperties(AMQP.BasicProperties props) {
    Map<String, Object> headers = new HashMap<>();
    if (props.getHeaders() != null) {
      for (Map.Entry<String, Object> e : props.getHeaders().entrySet()) {
        if (!FAILURE_ONLY.contains(e.getKey())) {
          headers.put(e.getKey(), e.getValue());
        }
      }
    }
    Object before = headers.get(REPLAYS);
    headers.put(REPLAYS, (before instanceof Number n ? n.intValue() : 0) + 1);
    return props.builder().headers(headers).deliveryMode(2).expiration(null).build();
  }

  private boolean exists(String queue) {
    Channel ch = channel(connections.consuming(), queue);
    try {
      ch.queueDeclarePassive(queue);
      return true;
    } catch (IOException | ShutdownSignalException e) {
      if (BusConnections.brokerReply(e).contains("NOT_FOUND")) {
        return false;
      }
      throw failure(queue, "cannot check", e);
    } finally {
      BusConnections.closeQuietly(ch);
    }
  }

  private static boolean matches(List<String> patterns, @Nullable String routingKey) {
    if (patterns.isEmpty()) {
      return true;
    }
    if (routingKey == null) {
      return false;
    }
    for (String p : patterns) {
      if (TopicMatcher.matches(p, routingKey)) {
        return true;
      }
    }
    return false;
  }

  /** Reads a message and its failure headers, or the broker's {@code x-death} where they lack. */
  static DeadLetter letter(String queue, AMQP.BasicProperties props, byte[] body) {
    Map<String, Object> h = new LinkedHashMap<>();
    if (props.getHeaders() != null) {
      for (Map.Entry<String, Object> e : props.getHeaders().entrySet()) {
        Object v = plain(e.getValue());
        if (v != null) {
          h.put(e.getKey(), v);
        }
      }
    }
    Map<?, ?> death = null;
    if (h.get("x-death") instanceof List<?> deaths
        && !deaths.isEmpty()
        && deaths.get(0) instanceof Map<?, ?> m) {
      death = m; // the most recent comes first
    }
    String exchange = string(h.get(FailureHeaders.ORIGINAL_EXCHANGE));
    String routingKey = string(h.get(FailureHeaders.ORIGINAL_ROUTING_KEY));
    String failedQueue = string(h.get(FailureHeaders.QUEUE));
    String reason = string(h.get(FailureHeaders.REASON));
    int attempts = h.get(FailureHeaders.ATTEMPTS) instanceof Number n ? n.intValue() : 0;
    if (death != null) {
      exchange = exchange != null ? exchange : string(death.get("exchange"));
      if (routingKey == null
          && death.get("routing-keys") instanceof List<?> keys
          && !keys.isEmpty()) {
        routingKey = string(keys.get(0));
      }
      failedQueue = failedQueue != null ? failedQueue : string(death.get("queue"));
      reason = reason != null ? reason : string(death.get("reason"));
      if (attempts == 0 && death.get("count") instanceof Number n) {
        attempts = n.intValue();
      }
    }
    List<String> violations = new ArrayList<>();
    if (h.get(FailureHeaders.VIOLATIONS) instanceof List<?> list) {
      for (Object v : list) {
        violations.add(String.valueOf(v));
      }
    }
    String eventId = props.getMessageId();
    String eventType = props.getType();
    if (eventId == null || eventType == null) {
      // Bloodbank publishers set no AMQP type, and other publishers may set no message id: the
      // envelope says both.
      JsonNode envelope = envelope(body);
      if (eventId == null && envelope.path("event_id").isTextual()) {
        eventId = envelope.get("event_id").asText();
      }
      if (eventType == null && envelope.path("event_type").isTextual()) {
        eventType = envelope.get("event_type").asText();
      }
    }
    return new DeadLetter(
        queue,
        eventId,
        eventType,
        exchange,
        routingKey,
        failedQueue,
        reason,
        string(h.get(FailureHeaders.ERROR_CLASS)),
        string(h.get(FailureHeaders.ERROR_MESSAGE)),
        attempts,
        instant(h.get(FailureHeaders.FIRST_FAILURE)),
        instant(h.get(FailureHeaders.LAST_FAILURE)),
        violations,
        h,
        body);
  }

  private static JsonNode envelope(byte[] body) {
    try {
      JsonNode n = ENVELOPE_READER.readTree(body);
      return n == null ? MissingNode.getInstance() : n;
    } catch (IOException e) {
      return MissingNode.getInstance(); // not JSON: a malformed dead letter
    }
  }

  /** AMQP field values as plain Java: strings for long strings, nulls dropped. */
  private static @Nullable Object plain(@Nullable Object v) {
    if (v instanceof LongString || v instanceof byte[]) {
      return v instanceof byte[] b
          ? new String(b, java.nio.charset.StandardCharsets.UTF_8)
          : v.toString();
    }
    if (v instanceof Date d) {
      return d.toInstant();
    }
    if (v instanceof List<?> list) {
      List<Object> out = new ArrayList<>(list.size());
      for (Object o : list) {
        Object p = plain(o);
        if (p != null) {
          out.add(p);
        }
      }
      return List.copyOf(out);
    }
    if (v instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        Object p = plain(e.getValue());
        if (p != null) {
          out.put(String.valueOf(e.getKey()), p);
        }
      }
      return java.util.Collections.unmodifiableMap(out);
    }
    return v;
  }

  private static @Nullable String string(@Nullable Object v) {
    return v == null ? null : v.toString();
  }

  private static @Nullable Instant instant(@Nullable Object v) {
    if (v instanceof Instant i) {
      return i;
    }
    if (v == null) {
      return null;
    }
    try {
      return Instant.parse(v.toString());
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private Channel channel(Connection c, String queue) {
    if (!open.getAsBoolean()) {
      throw new BloodbankException("this Bloodbank is closed");
    }
    try {
      return BusConnections.openChannel(c);
    } catch (IOException | ShutdownSignalException e) {
      throw failure(queue, "cannot open a channel for", e);
    }
  }

  private static BloodbankException failure(String queue, String what, Exception e) {
    return new BloodbankException(
        what + " queue '" + queue + "': " + BusConnections.brokerReply(e), e);
  }

  /** The reply text of the last message the broker returned as unroutable. */
  private static final class Returns implements com.rabbitmq.client.ReturnListener {
    volatile @Nullable String last;

    @Override
    public void handleReturn(
        int replyCode,
        String replyText,
        String exchange,
        String routingKey,
        AMQP.BasicProperties properties,
        byte[] body) {
      last = replyCode + " " + replyText;
    }
  }

  /** Waits for the next slot; false when the thread was or got interrupted (flag cleared). */
  private static boolean paced(Pacer pacer) {
    if (Thread.interrupted()) {
      return false;
    }
    try {
      pacer.pace();
      return true;
    } catch (InterruptedException e) {
      return false;
    }
  }
}
