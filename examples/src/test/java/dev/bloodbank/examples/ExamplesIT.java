package dev.bloodbank.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Runs every example end to end against the real broker. */
class ExamplesIT {
  interface Main {
    void run(String[] args) throws Exception;
  }

  private static String run(Main main) throws Exception {
    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      main.run(new String[0]);
    } finally {
      System.setOut(original);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    System.out.print(out);
    return out;
  }

  @Test
  void commandExampleAnswersAndPrintsTheCausationChain() throws Exception {
    String out = run(CommandExample::main);
    assertThat(out).contains("answer: You asked: \"What is the meaning of life?\"");
    assertThat(out).contains("(the command)").contains("(agent.thread.response)");
  }

  @Test
  void quickstartPublishesAndReceivesItsEvents() throws Exception {
    String out = run(Quickstart::main);
    assertThat(out).contains("RabbitMQ at").contains("done");
    assertThat(out.lines().filter(l -> l.startsWith("received fireflies.transcript.upload")))
        .hasSize(3);
  }
}
