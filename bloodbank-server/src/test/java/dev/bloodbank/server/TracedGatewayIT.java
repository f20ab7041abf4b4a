package dev.bloodbank.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.TestTracing;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A publish over HTTP continues the caller's W3C trace: the server's span is the child of the
 * caller's, the producer span the child of the server's, and the message carries that trace on.
 */
@ExtendWith(BrokerExtension.class)
class TracedGatewayIT {
  static final String PROMPT =
      "{\"provider\":\"anthropic\",\"model\":\"claude\",\"prompt\":\"hi\"}";
  static final String CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  static final String CALLER_SPAN = "00f067aa0ba902b7";

  final TestTracing tracing = new TestTracing();
  BloodbankServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    tracing.close();
  }

  @Test
  void aPublishContinuesTheCallersTraceOntoTheBus(BrokerExtension.Broker broker) throws Exception {
    server =
        BloodbankServer.start(
            ServerOptions.builder()
                .host("127.0.0.1")
                .port(0)
                .bus(broker.options().observability(tracing.observability()).build())
                .build());
    String raw = broker.rawQueue("llm.#");
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + "/events/llm.prompt"))
                    .header("Content-Type", "application/json")
                    .header("traceparent", "00-" + CALLER_TRACE + "-" + CALLER_SPAN + "-01")
                    .POST(HttpRequest.BodyPublishers.ofString(PROMPT))
                    .timeout(Duration.ofSeconds(20))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    String eventId = new ObjectMapper().readTree(r.body()).get("event_id").asText();

    SpanData http =
        tracing.await(
            s -> s.getKind() == SpanKind.SERVER && s.getName().equals("POST /events/{event_type}"),
            "the server span");
    SpanData producer =
        tracing.await(
            TestTracing.ofEvent(eventId).and(s -> s.getKind() == SpanKind.PRODUCER),
            "the producer span");
    assertThat(http.getTraceId()).isEqualTo(CALLER_TRACE);
    assertThat(http.getParentSpanId()).isEqualTo(CALLER_SPAN);
    assertThat(TestTracing.attribute(http, "http.response.status_code")).isEqualTo("202");
    assertThat(producer.getTraceId()).isEqualTo(CALLER_TRACE);
    assertThat(producer.getParentSpanId()).isEqualTo(http.getSpanId());

    List<GetResponse> got = broker.drain(raw, 1, Duration.ofSeconds(10));
    assertThat(got).hasSize(1);
    JsonNode body = new ObjectMapper().readTree(got.get(0).getBody());
    assertThat(body.get("event_id").asText()).isEqualTo(eventId);
    assertThat(String.valueOf(got.get(0).getProps().getHeaders().get("traceparent")))
        .startsWith("00-" + CALLER_TRACE + "-" + producer.getSpanId() + "-");
  }
}
