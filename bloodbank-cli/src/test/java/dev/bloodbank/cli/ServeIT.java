package dev.bloodbank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.GetResponse;
import dev.bloodbank.BrokerExtension;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code bb serve} as users run it: the packaged jar in its own process, a real HTTP client, and
 * SIGTERM to stop it.
 */
@ExtendWith(BrokerExtension.class)
class ServeIT {
  private static final Pattern STARTED =
      Pattern.compile("bloodbank-server on http://127.0.0.1:(\\d+)");

  @Test
  void servesPublishesLogsAccessAndStopsOnSigterm(BrokerExtension.Broker broker) throws Exception {
    Path jar;
    try (Stream<Path> files = Files.list(Path.of("target"))) {
      jar = files.filter(p -> p.toString().endsWith("-all.jar")).findFirst().orElseThrow();
    }
    String q = broker.rawQueue("llm.#");
    ProcessBuilder pb =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-jar",
                jar.toString(),
                "serve",
                "--port",
                "0",
                "--exchange",
                broker.exchange())
            .redirectErrorStream(true);
    Process p = pb.start();
    List<String> lines = new CopyOnWriteArrayList<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  lines.add(line);
                }
              } catch (IOException e) {
                lines.add("(read failed: " + e + ")");
              }
            });
    reader.start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      String port = null;
      while (port == null && System.nanoTime() < deadline && p.isAlive()) {
        for (String l : lines) {
          Matcher m = STARTED.matcher(l);
          if (m.find()) {
            port = m.group(1);
          }
        }
        Thread.sleep(50);
      }
      assertThat(port).as(String.join("\n", lines)).isNotNull();
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/events/llm.prompt"))
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"provider\":\"anthropic\",\"prompt\":\"hi\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
      List<GetResponse> got = broker.drain(q, 1, Duration.ofSeconds(5));
      assertThat(got).hasSize(1);
      assertThat(r.body()).contains(got.get(0).getProps().getMessageId());

      assertThat(new ProcessBuilder("kill", "-TERM", String.valueOf(p.pid())).start().waitFor())
          .isZero();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      reader.join(5000);
      assertThat(p.exitValue()).as(String.join("\n", lines)).isZero();
      assertThat(lines)
          .anyMatch(l -> l.contains("dev.bloodbank.server.access") && l.contains("status=202"))
          .anyMatch(l -> l.equals("bloodbank-server stopped"));
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void aServerBeyondLoopbackWithoutKeysIsAUsageError(BrokerExtension.Broker broker) {
    BbIT.Result r = BbIT.bb(broker, "serve", "--host", "0.0.0.0", "--port", "0");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("no API keys");
  }
}
