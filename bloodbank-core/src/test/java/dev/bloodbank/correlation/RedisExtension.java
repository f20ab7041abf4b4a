package dev.bloodbank.correlation;

import dev.bloodbank.BrokerExtension;
import dev.bloodbank.fault.RedisNode;
import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Gives each integration test a raw connection to the real Redis at localhost:6379, fresh event ids
 * whose correlation keys are deleted afterwards, and a client name of its own, so tests run in any
 * order and beside other suites. A test annotated {@link PrivateNode} gets a private {@code
 * redis-server} ({@link RedisNode}) instead: faults that hit every client (pausing writes) are made
 * there only.
 *
 * <p>When Redis is unreachable the test fails if {@code CI} is set, and is skipped otherwise.
 * Inject a {@link Redis} parameter.
 */
public final class RedisExtension
    implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(RedisExtension.class);

  /** Runs the annotated test against a private {@code redis-server} of its own. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target({ElementType.TYPE, ElementType.METHOD})
  public @interface PrivateNode {
    /** Why the shared Redis will not do. */
    String value();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    BrokerExtension.requireService("Redis", "127.0.0.1", 6379);
    boolean own =
        context
            .getTestMethod()
            .map(m -> AnnotationSupport.isAnnotated(m, PrivateNode.class))
            .orElse(false);
    context.getStore(NS).put("redis", new Redis(own ? RedisNode.create() : null));
  }

  @Override
  public void afterEach(ExtensionContext context) {
    Redis r = context.getStore(NS).remove("redis", Redis.class);
    if (r != null) {
      r.cleanUp();
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
    return p.getParameter().getType() == Redis.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext e) {
    return e.getStore(NS).get("redis", Redis.class);
  }

  /** One test's Redis resources. Thread-safe except {@link #cleanUp()}. */
  public static final class Redis {
    private static final Pattern CLIENT_ID = Pattern.compile("\\bid=(\\d+)\\b");

    private final String name = "bb-it-" + UUID.randomUUID().toString().substring(0, 8);
    private final @Nullable RedisNode node;
    private final String uri;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final List<UUID> ids = new CopyOnWriteArrayList<>();
    private final List<CorrelationTracker> trackers = new CopyOnWriteArrayList<>();
    private volatile long pausedUntilNanos;

    Redis(@Nullable RedisNode node) {
      this.node = node;
      this.uri = node != null ? node.uri() + "/0" : "redis://127.0.0.1:6379/0";
      this.client = RedisClient.create(uri);
      this.connection = client.connect();
    }

    /** Commands on a connection of the test's own (not the tracker's). */
    public RedisCommands<String, String> sync() {
      return connection.sync();
    }

    /** A fresh event id; its forward and reverse keys are deleted after the test. */
    public UUID id() {
      UUID id = UUID.randomUUID();
      ids.add(id);
      return id;
    }

    /** Marks an id made elsewhere (e.g. by a publisher) for clean-up. */
    public UUID track(UUID id) {
      ids.add(id);
      return id;
    }

    /** The forward key of an event. */
    public static String forward(UUID id) {
      return RedisCorrelationTracker.FORWARD + id;
    }

    /** The reverse key of an event. */
    public static String reverse(UUID id) {
      return RedisCorrelationTracker.REVERSE + id;
    }

    /** The client name this test's trackers use, so it can kill their connections only. */
    public String clientName() {
      return name;
    }

    /** Options for this test's Redis: its client name, a 1-hour TTL. */
    public RedisTrackerOptions.Builder options() {
      return RedisTrackerOptions.builder().uri(uri).clientName(name).ttl(Duration.ofHours(1));
    }

    /** A tracker closed after the test. */
    public CorrelationTracker tracker(RedisTrackerOptions options) {
      CorrelationTracker t = CorrelationTracker.redis(options);
      trackers.add(t);
      return t;
    }

    /** A tracker with {@link #options()}, closed after the test. */
    public CorrelationTracker tracker() {
      return tracker(options().build());
    }

    /** Registers a tracker made elsewhere to be closed after the test. */
    public <T extends CorrelationTracker> T closeLater(T tracker) {
      trackers.add(tracker);
      return tracker;
    }

    /** The ids of the connections named {@link #clientName()}, from {@code CLIENT LIST}. */
    public List<Long> clientIds() {
      List<Long> out = new ArrayList<>();
      for (String line : sync().clientList().split("\n")) {
        if (line.contains(" name=" + name + " ")) {
          Matcher m = CLIENT_ID.matcher(line);
          if (m.find()) {
            out.add(Long.parseLong(m.group(1)));
          }
        }
      }
      return out;
    }

    /** Kills this test's tracker connections ({@code CLIENT KILL ID}); returns how many. */
    public int killClients() {
      int n = 0;
      for (long id : clientIds()) {
        n += sync().clientKill(KillArgs.Builder.id(id)).intValue();
      }
      return n;
    }

    /**
     * {@code CLIENT PAUSE millis WRITE}: write commands of every client wait that long. Only on a
     * private node ({@link PrivateNode}): everyone else's writes would wait too.
     */
    public void pauseWrites(long millis) {
      if (node == null) {
        throw new IllegalStateException(
            "pausing Redis is only done on a private node: annotate the test with"
                + " @RedisExtension.PrivateNode");
      }
      pausedUntilNanos = System.nanoTime() + Duration.ofMillis(millis).toNanos();
      client("PAUSE", Long.toString(millis), "WRITE");
    }

    private String client(String... args) {
      CommandArgs<String, String> a = new CommandArgs<>(StringCodec.UTF8);
      for (String s : args) {
        a.add(s);
      }
      return sync().dispatch(CommandType.CLIENT, new StatusOutput<>(StringCodec.UTF8), a);
    }

    void cleanUp() {
      try {
        for (CorrelationTracker t : trackers) {
          t.close();
        }
        if (System.nanoTime() < pausedUntilNanos) {
          // A failed test must not leave Redis paused for the suites after it.
          client("UNPAUSE");
        }
        List<String> keys = new ArrayList<>();
        for (UUID id : ids) {
          keys.add(forward(id));
          keys.add(reverse(id));
        }
        for (int i = 0; i < keys.size(); i += 500) {
          sync().del(keys.subList(i, Math.min(keys.size(), i + 500)).toArray(new String[0]));
        }
      } finally {
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        if (node != null) {
          node.close();
        }
      }
    }
  }
}
