package dev.bloodbank.server.internal;

import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.observability.BloodbankObservability;
import dev.bloodbank.server.BloodbankServer;
import io.javalin.http.Context;
import io.javalin.router.Endpoint;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The server's metrics: a Prometheus registry that {@code GET /metrics} scrapes, the bus's metrics
 * in it, the JVM's and the process's, and a timer of every HTTP request. Built and closed by {@link
 * BloodbankServer}; the rule for an application's own registry is on {@link #create}.
 *
 * <p>Thread-safe.
 */
public final class ServerMetrics implements AutoCloseable {
  /** Prometheus text format 0.0.4, the format every scraper reads. */
  static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";

  /** OpenMetrics 1.0, for scrapers that ask for it. */
  static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

  /** The route tag of a request no route matched (a 404), so raw paths never become tags. */
  static final String UNMATCHED = "unmatched";

  /** The route tag of a dashboard file ({@code /}, {@code /app.js}, ...). */
  static final String STATIC = "static";

  private final PrometheusMeterRegistry scraped;
  private final MeterRegistry recorded;
  private final BloodbankObservability observability;
  private final @Nullable PrometheusMeterRegistry owned;
  private final @Nullable CompositeMeterRegistry composite;
  private final @Nullable JvmGcMetrics gc;
  // Bounded: methods, route templates (never raw paths) and statuses are few.
  private final Map<TimerKey, Timer> timers = new ConcurrentHashMap<>();

  private ServerMetrics(
      PrometheusMeterRegistry scraped,
      MeterRegistry recorded,
      BloodbankObservability observability,
      @Nullable PrometheusMeterRegistry owned,
      @Nullable CompositeMeterRegistry composite) {
    this.scraped = scraped;
    this.recorded = recorded;
    this.observability = observability;
    this.owned = owned;
    this.composite = composite;
    // JVM and process metrics only in the server's own registry: an application that gave one
    // binds its own (Spring Boot does), and binding them again would count each GC pause twice.
    if (owned != null) {
      new JvmMemoryMetrics().bindTo(owned);
      new JvmThreadMetrics().bindTo(owned);
      new ProcessorMetrics().bindTo(owned);
      new UptimeMetrics().bindTo(owned);
      this.gc = new JvmGcMetrics();
      gc.bindTo(owned);
    } else {
      this.gc = null;
    }
  }

  /**
   * Sets up the registries for the bus options an application gave:
   *
   * <ul>
   *   <li>no observability, or one with an observation registry only: the server makes a {@link
   *       PrometheusMeterRegistry} and gives it to the bus (keeping the observation registry and
   *       the amqp-client setting); the server closes it;
   *   <li>a meter registry that is a {@link PrometheusMeterRegistry}: used as it is, for the bus,
   *       the server's meters and the scrape; the application keeps and closes it;
   *   <li>any other meter registry (OTLP, a composite, ...): the server makes a {@link
   *       PrometheusMeterRegistry} and puts it beside the application's in a {@link
   *       CompositeMeterRegistry}, which the bus and the server record to, so both registries see
   *       every meter; the server closes its own registry and leaves the application's open.
   * </ul>
   *
   * @param given the bus options' observability, or null
   * @return the metrics; bind the bus with {@link #busOptions}
   */
  public static ServerMetrics create(@Nullable BloodbankObservability given) {
    MeterRegistry theirs = given == null ? null : given.meterRegistry();
    if (theirs instanceof PrometheusMeterRegistry p) {
      return new ServerMetrics(p, p, given, null, null);
    }
    PrometheusMeterRegistry own = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MeterRegistry recorded = own;
    CompositeMeterRegistry composite = null;
    if (theirs != null) {
      composite = new CompositeMeterRegistry(Clock.SYSTEM, List.of(theirs, own));
      recorded = composite;
    }
    BloodbankObservability.Builder b = BloodbankObservability.builder().meterRegistry(recorded);
    if (given != null) {
      ObservationRegistry observations = given.observationRegistry();
      if (observations != null) {
        b.observationRegistry(observations);
      }
      b.amqpClientMetrics(given.amqpClientMetrics());
    }
    return new ServerMetrics(own, recorded, b.build(), own, composite);
  }

  /** The bus options with this registry in them. */
  public BloodbankOptions busOptions(BloodbankOptions bus) {
    return bus.observability() == observability
        ? bus
        : bus.mutate().observability(observability).build();
  }

  /** The registry the bus and the server record to. */
  public MeterRegistry registry() {
    return recorded;
  }

  /** Records one finished HTTP request under its route template, never its raw path. */
  void request(Context ctx, float millis) {
    TimerKey key =
        new TimerKey(ctx.method().name(), route(ctx), Integer.toString(ctx.statusCode()));
    // Built and looked up once per route and status: a Timer.builder(...).register(...) per
    // request cost a few microseconds of tag sorting and registry lookup on every answer.
    timers
        .computeIfAbsent(
            key,
            k ->
                Timer.builder(BloodbankServer.HTTP_SERVER_REQUESTS)
                    .description("HTTP requests to bloodbank-server, by route template and status")
                    .tag("method", k.method())
                    .tag("route", k.route())
                    .tag("status", k.status())
                    .register(recorded))
        .record((long) (millis * 1_000_000d), TimeUnit.NANOSECONDS);
  }

  private record TimerKey(String method, String route, String status) {}

  private static String route(Context ctx) {
    Endpoint e = ctx.endpoints().matchedHttpEndpoint();
    if (e != null) {
      return e.path;
    }
    return ctx.statusCode() < 400 ? STATIC : UNMATCHED;
  }

  /** A scrape: its body and the content type it is written in. */
  record Scrape(String contentType, byte[] body) {}

  /**
   * Writes every meter in the format the {@code Accept} header prefers: OpenMetrics when it asks
   * for {@code application/openmetrics-text} at least as much as for {@code text/plain}, else
   * Prometheus text 0.0.4.
   */
  Scrape scrape(@Nullable String accept) {
    String type = openMetricsPreferred(accept) ? OPEN_METRICS : TEXT;
    return new Scrape(type, scraped.scrape(type).getBytes(StandardCharsets.UTF_8));
  }

  static boolean openMetricsPreferred(@Nullable String accept) {
    if (accept == null) {
      return false;
    }
    double openMetrics = 0;
    double text = 0;
    for (String range : accept.split(",")) {
      String[] parts = range.split(";");
      String type = parts[0].strip().toLowerCase(Locale.ROOT);
      double q = 1;
      for (int i = 1; i < parts.length; i++) {
        String p = parts[i].strip();
        if (p.startsWith("q=")) {
          try {
            q = Double.parseDouble(p.substring(2));
          } catch (NumberFormatException e) {
            q = 0;
          }
        }
      }
      if (type.equals("application/openmetrics-text")) {
        openMetrics = Math.max(openMetrics, q);
      } else if (type.equals("text/plain")) {
        text = Math.max(text, q);
      }
    }
    return openMetrics > 0 && openMetrics >= text;
  }

  /**
   * Stops the GC listener and closes the registries the server made; an application's registry
   * stays open. After the bus has closed, so its last updates land.
   */
  @Override
  public void close() {
    if (gc != null) {
      gc.close();
    }
    if (composite != null) {
      // A composite closes its children: detach them first, the application's must stay open.
      for (MeterRegistry child : List.copyOf(composite.getRegistries())) {
        composite.remove(child);
      }
      composite.close();
    }
    if (owned != null) {
      owned.close();
    }
  }
}
