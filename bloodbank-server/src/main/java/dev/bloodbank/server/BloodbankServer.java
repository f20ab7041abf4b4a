package dev.bloodbank.server;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.server.internal.Gateway;
import dev.bloodbank.server.internal.ServerMetrics;
import dev.bloodbank.voice.SpeechRecognizer;
import dev.bloodbank.voice.Transcriber;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running bloodbank-server: the HTTP gateway, the live tail, {@code /asr} when speech is
 * configured, the dashboard at {@code /}, and its metrics for Prometheus at {@code /metrics} (see
 * {@link ServerOptions.Builder#metrics}). The entry point of this module.
 *
 * <pre>{@code
 * try (BloodbankServer server = BloodbankServer.start(ServerOptions.builder().port(8682).build())) {
 *   server.awaitStop();
 * }
 * }</pre>
 *
 * <p>Thread-safe. {@link #close()} stops in order and is what SIGTERM runs under {@code bb serve}:
 * new requests get 503, live tails end with a notice, publishes in flight get their confirms,
 * speech sessions publish their last segments, the write-ahead log is flushed, then the bus closes
 * and the metrics registry the server made; all within {@link ServerOptions#shutdownTimeout()}.
 *
 * @since 0.2.0
 */
public final class BloodbankServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BloodbankServer.class);

  /**
   * Timer of every HTTP request the server answered, from its arrival to the end of the answer (for
   * the live tail, the end of the stream), tags {@code method}, {@code route} (the route template
   * such as {@code /events/{event_type}}, never the raw path; {@code static} for the dashboard's
   * files, {@code unmatched} when no route matched) and {@code status}. Prometheus shows it as
   * {@code bloodbank_http_server_requests_seconds_*}. Scrapes of {@code /metrics} are counted too,
   * so a scraper with a wrong key shows as 401s.
   *
   * @since 0.2.0
   */
  public static final String HTTP_SERVER_REQUESTS = "bloodbank.http.server.requests";

  private final ServerOptions options;
  private final Bloodbank bus;
  private final @Nullable ServerMetrics metrics;
  private final @Nullable SpeechRecognizer recognizer;
  private final @Nullable Transcriber transcriber;
  private final int replayed;
  private final Gateway gateway;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch stopped = new CountDownLatch(1);

  private BloodbankServer(
      ServerOptions options,
      Bloodbank bus,
      @Nullable SpeechRecognizer recognizer,
      @Nullable Transcriber transcriber,
      int replayed,
      Gateway gateway,
      @Nullable ServerMetrics metrics) {
    this.options = options;
    this.bus = bus;
    this.metrics = metrics;
    this.recognizer = recognizer;
    this.transcriber = transcriber;
    this.replayed = replayed;
    this.gateway = gateway;
  }

  /**
   * Connects to the bus, loads the speech model when configured (replaying its write-ahead log),
   * and starts listening.
   *
   * @param options the server's options
   * @return the running server
   * @throws dev.bloodbank.ConnectionException when the broker cannot be reached
   * @throws dev.bloodbank.voice.VoiceException for a bad speech model (names the file)
   * @throws RuntimeException from Jetty when the address cannot be bound
   */
  public static BloodbankServer start(ServerOptions options) {
    ServerMetrics metrics =
        options.metrics() ? ServerMetrics.create(options.bus().observability()) : null;
    Bloodbank bus;
    try {
      bus = Bloodbank.connect(metrics == null ? options.bus() : metrics.busOptions(options.bus()));
    } catch (RuntimeException e) {
      if (metrics != null) {
        metrics.close();
      }
      throw e;
    }
    SpeechRecognizer recognizer = null;
    Transcriber transcriber = null;
    try {
      int replayed = 0;
      if (options.speech() != null) {
        recognizer = SpeechRecognizer.create(options.speech());
        transcriber = Transcriber.create(bus, recognizer, options.transcription());
        replayed = transcriber.replayWal();
      }
      Gateway gateway = new Gateway(options, bus, transcriber, metrics, options.keyStorePassword());
      BloodbankServer server =
          new BloodbankServer(options, bus, recognizer, transcriber, replayed, gateway, metrics);
      LOG.info(
          "bloodbank-server listening on {}://{}:{} (exchange {}, keys {}, asr {}, metrics {})",
          options.keyStore() == null ? "http" : "https",
          options.host(),
          gateway.port(),
          options.bus().exchange(),
          options.apiKeys().isEmpty() ? "none: open on loopback" : options.apiKeys().names(),
          transcriber == null ? "off" : "on",
          metrics == null ? "off" : "/metrics");
      return server;
    } catch (RuntimeException e) {
      if (transcriber != null) {
        transcriber.close();
      }
      if (recognizer != null) {
        recognizer.close();
      }
      bus.close();
      if (metrics != null) {
        metrics.close();
      }
      throw e;
    }
  }

  /** The port the server listens on (the chosen one when the options said 0). */
  public int port() {
    return gateway.port();
  }

  /** The address the server listens on. */
  public InetSocketAddress address() {
    return gateway.address();
  }

  /** The options the server runs with. */
  public ServerOptions options() {
    return options;
  }

  /** The bus the server publishes to. */
  public Bloodbank bus() {
    return bus;
  }

  /**
   * The registry the server and its bus record metrics to, for an application's own meters; they
   * appear at {@code /metrics} too. Closed with the server unless the application gave it.
   *
   * @return the registry, or empty when {@link ServerOptions#metrics()} is off
   * @since 0.2.0
   */
  public Optional<io.micrometer.core.instrument.MeterRegistry> meterRegistry() {
    return Optional.ofNullable(metrics).map(ServerMetrics::registry);
  }

  /** Events from the speech write-ahead log published at start (0 without speech). */
  public int replayed() {
    return replayed;
  }

  /** Live-tail clients (SSE and WebSocket) connected now. */
  public int tailClients() {
    return gateway.tailClients();
  }

  /** The HTTP routes as {@code method path}, each also under {@code /v1}; for documentation. */
  public List<String> routes() {
    return gateway.routes().stream().map(r -> r.method() + " " + r.path()).toList();
  }

  /** Blocks until {@link #close()} has finished. */
  public void awaitStop() throws InterruptedException {
    stopped.await();
  }

  /** Stops in order (see the class description). Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      gateway.close();
    } finally {
      try {
        if (transcriber != null) {
          transcriber.close(); // flushes the write-ahead log; before the recognizer and the bus
        }
      } finally {
        try {
          if (recognizer != null) {
            recognizer.close();
          }
        } finally {
          try {
            bus.close();
          } finally {
            if (metrics != null) {
              metrics.close(); // after the bus, so its last updates land
            }
            stopped.countDown();
            LOG.info("bloodbank-server stopped");
          }
        }
      }
    }
  }
}
