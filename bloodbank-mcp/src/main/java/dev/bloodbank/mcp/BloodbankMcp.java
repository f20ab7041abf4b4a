package dev.bloodbank.mcp;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.archive.ReplayOptions;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.registry.EventRegistry;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.json.schema.jackson2.DefaultJsonSchemaValidator;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpServerTransportProvider;
import io.modelcontextprotocol.spec.McpStreamableServerTransportProvider;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The Bloodbank MCP server: the bus's tools and the schema catalog as resources, for any transport
 * of the official MCP Java SDK.
 *
 * <pre>{@code
 * try (BloodbankMcp mcp = BloodbankMcp.builder().connect(BloodbankOptions.fromEnvironment()).build()) {
 *   McpSyncServer server =
 *       mcp.serve(new StdioServerTransportProvider(BloodbankMcp.jsonMapper()));
 *   ...
 * }
 * }</pre>
 *
 * <p>Tools: {@code list_event_types}, {@code show_schema}, {@code publish_event}, {@code
 * publish_llm_prompt}, {@code publish_llm_response}, {@code publish_artifact}, {@code trace_event},
 * {@code recent_events} and {@code dead_letters}. Every failure a caller can cause or meet (bad
 * arguments with the JSON pointers of the violations, an unknown event type, the broker
 * unreachable, a publish timing out) is a tool result with {@code isError} true and a {@code
 * structuredContent} of {@code error}, {@code message} and {@code violations}, never a protocol
 * error. Resources: each catalog schema at {@code bloodbank://schemas/<event_type>}.
 *
 * <p>Tool calls block (a publish waits for the broker's confirm, at most {@link
 * Builder#toolTimeout(Duration)}); the SDK runs them off its transport threads. Thread-safe.
 * Closing it closes the bus it connected itself, never one it was given.
 *
 * @since 0.2.0
 */
public final class BloodbankMcp implements AutoCloseable {
  /** The server name told to clients: {@value}. */
  public static final String DEFAULT_SERVER_NAME = "bloodbank";

  /** How long {@code recent_events} listens live when there is no archive: 3 s. */
  public static final Duration DEFAULT_LIVE_WINDOW = Duration.ofSeconds(3);

  /** The longest a tool waits for the broker (a confirm, a replay): 15 s. */
  public static final Duration DEFAULT_TOOL_TIMEOUT = Duration.ofSeconds(15);

  /** The prefix of the schema resources' URIs: {@value}. */
  public static final String SCHEMA_URI_PREFIX = "bloodbank://schemas/";

  private final BusAccess bus;
  private final Tools tools;
  private final String serverName;
  private final String serverVersion;

  private BloodbankMcp(Builder b, BusAccess bus, EventRegistry registry) {
    this.bus = bus;
    this.serverName = b.serverName;
    this.serverVersion = b.serverVersion;
    this.tools =
        new Tools(
            bus,
            registry,
            b.correlationTracker,
            b.archiveQueue,
            b.liveWindow,
            b.toolTimeout,
            b.publishAllowed,
            MAPPER);
  }

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /**
   * Returns a new builder.
   *
   * @return a builder with the defaults of this class's constants
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The JSON mapper (Jackson 2) to give the transport, so that server and transport agree.
   *
   * @return a mapper on a plain Jackson {@code ObjectMapper}
   */
  public static McpJsonMapper jsonMapper() {
    return new JacksonMcpJsonMapper(MAPPER);
  }

  /**
   * Starts a server with the tools and resources on a single-session transport, such as the SDK's
   * {@code StdioServerTransportProvider}.
   *
   * @param transport the transport
   * @return the running server; close it with {@link McpSyncServer#closeGracefully()}
   */
  public McpSyncServer serve(McpServerTransportProvider transport) {
    return configure(McpServer.sync(Objects.requireNonNull(transport, "transport"))).build();
  }

  /**
   * Starts a server with the tools and resources on a Streamable HTTP transport, such as the SDK's
   * {@code HttpServletStreamableServerTransportProvider}.
   *
   * @param transport the transport
   * @return the running server; close it with {@link McpSyncServer#closeGracefully()}
   */
  public McpSyncServer serve(McpStreamableServerTransportProvider transport) {
    return configure(McpServer.sync(Objects.requireNonNull(transport, "transport"))).build();
  }

  /**
   * The tool specifications, for a server assembled by hand.
   *
   * @return the tools, in a fixed order
   */
  public List<McpServerFeatures.SyncToolSpecification> tools() {
    return tools.specifications();
  }

  /**
   * The schema resources, one per event type of the catalog, for a server assembled by hand.
   *
   * @return the resources, by event type
   */
  public List<McpServerFeatures.SyncResourceSpecification> resources() {
    return tools.resources();
  }

  private McpServer.SyncSpecification<?> configure(McpServer.SyncSpecification<?> spec) {
    return spec.serverInfo(serverName, serverVersion)
        .jsonMapper(jsonMapper())
        .jsonSchemaValidator(new DefaultJsonSchemaValidator(MAPPER))
        // The tools check their arguments themselves, to answer with every violation's pointer
        // in a tool result rather than the SDK's protocol error.
        .validateToolInputs(false)
        .capabilities(
            McpSchema.ServerCapabilities.builder().tools(false).resources(false, false).build())
        .instructions(
            "Tools for the Bloodbank event bus: list_event_types and show_schema read the catalog;"
                + " publish_event (with dry_run) publishes any catalog event after validating it;"
                + " publish_llm_prompt, publish_llm_response (correlated to the prompt's event id)"
                + " and publish_artifact publish the common ones; trace_event, recent_events and"
                + " dead_letters inspect the bus. Schemas are resources at "
                + SCHEMA_URI_PREFIX
                + "<event_type>.")
        .tools(tools.specifications())
        .resources(tools.resources());
  }

  /** Closes the bus this server connected itself (never one given to {@link Builder#bus}). */
  @Override
  public void close() {
    bus.close();
  }

  /** Builds a {@link BloodbankMcp}. Not thread-safe. */
  public static final class Builder {
    private @Nullable Bloodbank bus;
    private @Nullable BloodbankOptions connect;
    private @Nullable EventRegistry registry;
    private @Nullable CorrelationTracker correlationTracker;
    private String archiveQueue = ReplayOptions.DEFAULT_QUEUE;
    private Duration liveWindow = DEFAULT_LIVE_WINDOW;
    private Duration toolTimeout = DEFAULT_TOOL_TIMEOUT;
    private Predicate<McpTransportContext> publishAllowed = context -> true;
    private String serverName = DEFAULT_SERVER_NAME;
    private String serverVersion =
        Objects.requireNonNullElse(
            BloodbankMcp.class.getPackage().getImplementationVersion(), "unknown");

    private Builder() {}

    /**
     * Uses a bus that is already connected; {@link BloodbankMcp#close()} leaves it open. Either
     * this or {@link #connect(BloodbankOptions)} is required.
     *
     * @param bus the bus
     * @return this builder
     */
    public Builder bus(Bloodbank bus) {
      this.bus = Objects.requireNonNull(bus, "bus");
      this.connect = null;
      return this;
    }

    /**
     * Connects to the bus with these options on the first tool call that needs the broker, and
     * again on the next call after a failed attempt, so that the server starts and answers (with
     * error results) while the broker is down. {@link BloodbankMcp#close()} closes that bus.
     *
     * @param options the bus options
     * @return this builder
     */
    public Builder connect(BloodbankOptions options) {
      this.connect = Objects.requireNonNull(options, "options");
      this.bus = null;
      return this;
    }

    /**
     * The catalog the tools and resources show and validate against. Default: the bus's, or for
     * {@link #connect} {@link EventRegistry#fromClasspath()}.
     *
     * @param registry the registry
     * @return this builder
     */
    public Builder registry(EventRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * The causation graph {@code trace_event} reads. Default: the bus's ({@code REDIS_URL});
     * without one, {@code trace_event} answers with an error result saying so.
     *
     * @param tracker the tracker; not closed by this server
     * @return this builder
     */
    public Builder correlationTracker(CorrelationTracker tracker) {
      this.correlationTracker = Objects.requireNonNull(tracker, "tracker");
      return this;
    }

    /**
     * The archive stream queue {@code recent_events} replays. Default {@value
     * ReplayOptions#DEFAULT_QUEUE}; when it does not exist, {@code recent_events} listens live.
     *
     * @param queue the stream queue's name
     * @return this builder
     * @throws IllegalArgumentException when blank
     */
    public Builder archiveQueue(String queue) {
      Objects.requireNonNull(queue, "queue");
      if (queue.isBlank()) {
        throw new IllegalArgumentException("archiveQueue must not be blank");
      }
      this.archiveQueue = queue;
      return this;
    }

    /**
     * How long {@code recent_events} listens when there is no archive. Default {@link
     * #DEFAULT_LIVE_WINDOW}; 100 ms to 60 s.
     *
     * @param window the window
     * @return this builder
     * @throws IllegalArgumentException when out of range, naming the value
     */
    public Builder liveWindow(Duration window) {
      this.liveWindow = range("liveWindow", window, Duration.ofMillis(100), Duration.ofSeconds(60));
      return this;
    }

    /**
     * The longest a tool waits on the broker. Default {@link #DEFAULT_TOOL_TIMEOUT}; 1 s to 5 min.
     *
     * @param timeout the timeout
     * @return this builder
     * @throws IllegalArgumentException when out of range, naming the value
     */
    public Builder toolTimeout(Duration timeout) {
      this.toolTimeout =
          range("toolTimeout", timeout, Duration.ofSeconds(1), Duration.ofMinutes(5));
      return this;
    }

    /**
     * Decides, per call, whether the caller may publish: a publishing tool ({@code publish_event},
     * {@code publish_llm_prompt}, {@code publish_llm_response}, {@code publish_artifact}) called
     * without {@code dry_run} by a caller it refuses answers with an error result {@code
     * forbidden}. The context is what the transport's context extractor made of the request, e.g.
     * an HTTP server's API key. Default: everyone may (stdio has one local caller).
     *
     * @param allowed whether the call's transport context may publish
     * @return this builder
     */
    public Builder publishAllowed(Predicate<McpTransportContext> allowed) {
      this.publishAllowed = Objects.requireNonNull(allowed, "allowed");
      return this;
    }

    /**
     * The name and version told to clients. Default {@value #DEFAULT_SERVER_NAME} and the jar's
     * {@code Implementation-Version}, or {@code unknown}.
     *
     * @param name the server name
     * @param version its version
     * @return this builder
     */
    public Builder serverInfo(String name, String version) {
      this.serverName = Objects.requireNonNull(name, "name");
      this.serverVersion = Objects.requireNonNull(version, "version");
      return this;
    }

    /**
     * Builds the server's tools; connects nothing yet.
     *
     * @return the MCP server definition
     * @throws IllegalStateException when neither {@link #bus} nor {@link #connect} was given
     */
    public BloodbankMcp build() {
      BusAccess access;
      EventRegistry reg = registry;
      if (bus != null) {
        access = BusAccess.given(bus);
        if (reg == null) {
          reg = bus.registry();
        }
        if (correlationTracker == null) {
          correlationTracker = bus.correlationTracker().orElse(null);
        }
      } else if (connect != null) {
        access = BusAccess.connecting(connect);
        if (reg == null) {
          reg = EventRegistry.fromClasspath();
        }
      } else {
        throw new IllegalStateException("BloodbankMcp needs bus(Bloodbank) or connect(options)");
      }
      return new BloodbankMcp(this, access, reg);
    }

    private static Duration range(String what, Duration d, Duration min, Duration max) {
      Objects.requireNonNull(d, what);
      if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
        throw new IllegalArgumentException(
            what + " must be between " + min + " and " + max + ", was " + d);
      }
      return d;
    }
  }
}
