package dev.bloodbank.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.observability.BloodbankObservability;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code GET /metrics} end to end: a real server on the real RabbitMQ, scraped with the JDK's HTTP
 * client as Prometheus would. Each test has its own exchange from {@link BrokerExtension}.
 */
@ExtendWith(BrokerExtension.class)
class MetricsIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String PROMPT =
      "{\"provider\":\"anthropic\",\"model\":\"claude\",\"prompt\":\"hi\"}";
  static final String READER = "reader-secret-0123456789";
  static final String PUBLISHER = "publisher-secret-0123456789";

  /** What Prometheus 2.x and 3.x send when they scrape. */
  static final String PROMETHEUS_ACCEPT =
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
          + "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  final List<BloodbankServer> servers = new ArrayList<>();

  @AfterEach
  void stop() {
    servers.forEach(BloodbankServer::close);
  }

  BloodbankServer start(
      BrokerExtension.Broker broker, UnaryOperator<ServerOptions.Builder> change) {
    BloodbankServer s =
        BloodbankServer.start(
            change
                .apply(
                    ServerOptions.builder().host("127.0.0.1").port(0).bus(broker.options().build()))
                .build());
    servers.add(s);
    return s;
  }

  HttpResponse<String> call(BloodbankServer s, String method, String path, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
            .timeout(Duration.ofSeconds(20));
    if (method.equals("POST")) {
      b.header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(PROMPT));
    } else {
      b.GET();
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.setHeader(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Scrapes until the text satisfies the condition, at most 10 s: a request's timer is recorded
   * after its answer went out, a publish's when its confirm has been handled.
   */
  HttpResponse<String> scrapeUntil(
      BloodbankServer s, Predicate<String> condition, String... headers) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      HttpResponse<String> r = call(s, "GET", "/metrics", headers);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      if (condition.test(r.body()) || System.nanoTime() > deadline) {
        return r;
      }
      Thread.sleep(50);
    }
  }

  /**
   * A sample line: the metric, these label pairs in any order among others, and the value (a whole
   * number, written {@code 3} or {@code 3.0}; negative for any value).
   */
  static Pattern sample(String metric, int value, String... labels) {
    StringBuilder re = new StringBuilder("(?m)^").append(Pattern.quote(metric)).append("\\{");
    for (String label : labels) {
      re.append("(?=[^\\n]*").append(Pattern.quote(label)).append(")");
    }
    re.append("[^\\n]*\\} ").append(value < 0 ? "\\S+" : value + "(?:\\.0)?").append("$");
    return Pattern.compile(re.toString());
  }

  static final Pattern HTTP_202 =
      sample(
          "bloodbank_http_server_requests_seconds_count",
          3,
          "method=\"POST\"",
          "route=\"/events/{event_type}\"",
          "status=\"202\"");
  static final Pattern PUBLISHED =
      sample(
          "bloodbank_publish_seconds_count",
          3,
          "event_type=\"llm.prompt\"",
          "outcome=\"confirmed\"");

  @Test
  void theScrapeHasRequestsByRouteTheBusAndTheJvm(BrokerExtension.Broker broker) throws Exception {
    BloodbankServer s = start(broker, b -> b);
    broker.rawQueue("#");
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> r = call(s, "POST", "/events/llm.prompt");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    }
    assertThat(call(s, "GET", "/nothing/here").statusCode()).isEqualTo(404);
    assertThat(call(s, "GET", "/").statusCode()).isEqualTo(200);

    HttpResponse<String> r =
        scrapeUntil(s, t -> HTTP_202.matcher(t).find() && PUBLISHED.matcher(t).find());
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    String text = r.body();
    assertThat(text)
        .containsPattern(HTTP_202)
        .containsPattern(
            sample(
                "bloodbank_http_server_requests_seconds_count",
                1,
                "route=\"unmatched\"",
                "status=\"404\""))
        .containsPattern(
            sample(
                "bloodbank_http_server_requests_seconds_count",
                1,
                "route=\"static\"",
                "status=\"200\""))
        .doesNotContain("/nothing/here")
        .contains("bloodbank_http_server_requests_seconds_sum{")
        .contains("bloodbank_http_server_requests_seconds_max{");
    // The JVM and the process.
    assertThat(text)
        .contains("jvm_memory_used_bytes{")
        .contains("jvm_threads_live_threads ")
        .contains("process_uptime_seconds ")
        .contains("system_cpu_count ");
    // The bus's own (from bloodbank-core), in the server's registry.
    assertThat(text).containsPattern(PUBLISHED);

    HttpResponse<String> v1 = call(s, "GET", "/v1/metrics");
    assertThat(v1.statusCode()).isEqualTo(200);
    assertThat(v1.body()).contains("bloodbank_http_server_requests_seconds_count{");
    // A scrape is a request like any other: the first one shows in the next.
    assertThat(call(s, "GET", "/metrics").body())
        .containsPattern(
            sample(
                "bloodbank_http_server_requests_seconds_count",
                -1,
                "route=\"/metrics\"",
                "status=\"200\""));
  }

  @Test
  void prometheusGetsOpenMetricsWhenItAsksForIt(BrokerExtension.Broker broker) throws Exception {
    BloodbankServer s = start(broker, b -> b);
    HttpResponse<String> r = call(s, "GET", "/metrics", "Accept", PROMETHEUS_ACCEPT);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValue("application/openmetrics-text; version=1.0.0; charset=utf-8");
    assertThat(r.body()).contains("process_uptime_seconds").endsWith("# EOF\n");

    HttpResponse<String> text = call(s, "GET", "/metrics", "Accept", "text/plain");
    assertThat(text.headers().firstValue("Content-Type")).get().asString().startsWith("text/plain");
    assertThat(text.body()).doesNotContain("# EOF");
  }

  @Test
  void withKeysTheScrapeNeedsTheReadScope(BrokerExtension.Broker broker) throws Exception {
    ApiKeys keys =
        ApiKeys.parse("reader read " + READER + "\npublisher publish " + PUBLISHER, "keys.txt");
    BloodbankServer s = start(broker, b -> b.apiKeys(keys));

    HttpResponse<String> none = call(s, "GET", "/metrics");
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).isPresent();
    assertThat(JSON.readTree(none.body()).get("error").asText()).isEqualTo("unauthorized");
    assertThat(call(s, "GET", "/metrics?access_token=" + READER).statusCode())
        .as("a key in the query string is for browsers' streams only")
        .isEqualTo(401);
    HttpResponse<String> publisher =
        call(s, "GET", "/metrics", "Authorization", "Bearer " + PUBLISHER);
    assertThat(publisher.statusCode()).isEqualTo(403);
    assertThat(JSON.readTree(publisher.body()).get("message").asText()).contains("read");

    HttpResponse<String> reader =
        scrapeUntil(
            s,
            t ->
                t.contains("status=\"401\"")
                    && t.contains("status=\"403\"")
                    && t.contains("route=\"/metrics\""),
            "Authorization",
            "Bearer " + READER);
    assertThat(reader.body())
        .containsPattern(
            sample(
                "bloodbank_http_server_requests_seconds_count",
                2,
                "method=\"GET\"",
                "route=\"/metrics\"",
                "status=\"401\""))
        .containsPattern(
            sample(
                "bloodbank_http_server_requests_seconds_count",
                1,
                "route=\"/metrics\"",
                "status=\"403\""));
    assertThat(call(s, "GET", "/health").statusCode()).isEqualTo(200);
  }

  @Test
  void metricsOffAnswers404AndKeepNothing(BrokerExtension.Broker broker) throws Exception {
    BloodbankServer s = start(broker, b -> b.metrics(false));
    assertThat(s.meterRegistry()).isEmpty();
    assertThat(s.bus().options().observability()).isNull();
    for (String path : List.of("/metrics", "/v1/metrics")) {
      HttpResponse<String> r = call(s, "GET", path);
      assertThat(r.statusCode()).isEqualTo(404);
      assertThat(r.headers().firstValue("Content-Type")).get().asString().contains("json");
      JsonNode body = JSON.readTree(r.body());
      assertThat(body.get("error").asText()).isEqualTo("metrics_off");
      assertThat(body.get("message").asText()).contains("BLOODBANK_SERVER_METRICS");
      assertThat(body.get("request_id").asText()).isNotEmpty();
    }
    assertThat(call(s, "POST", "/events/llm.prompt").statusCode()).isEqualTo(202);
  }

  @Test
  void anApplicationsPrometheusRegistryIsScrapedAndLeftOpen(BrokerExtension.Broker broker)
      throws Exception {
    PrometheusMeterRegistry theirs = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Counter.builder("app.things").register(theirs).increment(7);
    BloodbankServer s =
        start(
            broker,
            b ->
                b.bus(
                    broker
                        .options()
                        .observability(
                            BloodbankObservability.builder().meterRegistry(theirs).build())
                        .build()));
    assertThat(s.meterRegistry()).containsSame(theirs);
    assertThat(call(s, "GET", "/health").statusCode()).isEqualTo(200);
    assertThat(scrapeUntil(s, t -> t.contains("route=\"/health\"")).body())
        .contains("app_things_total 7.0")
        .contains("route=\"/health\"")
        .doesNotContain("jvm_memory_used_bytes{"); // the application binds its own
    s.close();
    assertThat(theirs.isClosed()).isFalse();
    theirs.close();
  }

  @Test
  void anApplicationsOtherRegistryGetsEveryMeterBesideTheServers(BrokerExtension.Broker broker)
      throws Exception {
    SimpleMeterRegistry theirs = new SimpleMeterRegistry();
    BloodbankServer s =
        start(
            broker,
            b ->
                b.bus(
                    broker
                        .options()
                        .observability(
                            BloodbankObservability.builder()
                                .meterRegistry(theirs)
                                .amqpClientMetrics(false)
                                .build())
                        .build()));
    broker.rawQueue("#");
    for (int i = 0; i < 3; i++) {
      assertThat(call(s, "POST", "/events/llm.prompt").statusCode()).isEqualTo(202);
    }
    BloodbankObservability given = s.bus().options().observability();
    assertThat(given).isNotNull();
    assertThat(given.amqpClientMetrics()).as("the application's setting is kept").isFalse();

    HttpResponse<String> r =
        scrapeUntil(s, t -> HTTP_202.matcher(t).find() && PUBLISHED.matcher(t).find());
    assertThat(r.body()).containsPattern(HTTP_202).containsPattern(PUBLISHED);
    assertThat(r.body()).doesNotContain("bloodbank_amqp_");
    // The same meters in the application's registry.
    assertThat(
            theirs
                .get(BloodbankServer.HTTP_SERVER_REQUESTS)
                .tag("route", "/events/{event_type}")
                .tag("status", "202")
                .timer()
                .count())
        .isEqualTo(3);
    assertThat(
            theirs
                .get(BloodbankObservability.PUBLISH)
                .tag("event_type", "llm.prompt")
                .tag("outcome", "confirmed")
                .timer()
                .count())
        .isEqualTo(3);
    s.close();
    assertThat(theirs.isClosed()).isFalse();
    theirs.close();
  }
}
