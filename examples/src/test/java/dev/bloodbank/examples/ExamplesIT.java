package dev.bloodbank.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Runs every example end to end against the real broker. */
class ExamplesIT {
  @Test
  void quickstartPublishesAndReceivesItsEvents() throws Exception {
    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      Quickstart.main(new String[0]);
    } finally {
      System.setOut(original);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    System.out.print(out);
    assertThat(out).contains("RabbitMQ at").contains("done");
    assertThat(out.lines().filter(l -> l.startsWith("received fireflies.transcript.upload")))
        .hasSize(3);
  }
}
