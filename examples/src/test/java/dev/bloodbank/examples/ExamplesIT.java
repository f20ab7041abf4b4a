package dev.bloodbank.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.BloodbankOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Runs every example end to end, on the real broker (from the environment, or localhost:5672) and
 * on the embedded one they fall back to when no broker answers.
 */
class ExamplesIT {
  /** Nothing listens on port 1: the examples fall back to the embedded broker. */
  private static final BloodbankOptions NO_BROKER =
      BloodbankOptions.builder().address("127.0.0.1", 1).build();

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
    assertThat(out.lines().findFirst())
        .hasValueSatisfying(l -> assertThat(l).contains("RabbitMQ at"));
    assertCommandExample(out);
  }

  @Test
  void commandExampleRunsOnTheEmbeddedBrokerWithoutRabbitMq() throws Exception {
    String out = run(args -> CommandExample.run(NO_BROKER));
    assertThat(out.lines().findFirst())
        .hasValueSatisfying(l -> assertThat(l).contains("embedded in-process broker"));
    assertCommandExample(out);
  }

  @Test
  void quickstartPublishesAndReceivesItsEvents() throws Exception {
    String out = run(Quickstart::main);
    assertThat(out.lines().findFirst())
        .hasValueSatisfying(
            l -> assertThat(l).startsWith("Bloodbank quickstart: running on RabbitMQ at "));
    assertQuickstart(out);
  }

  @Test
  void quickstartRunsOnTheEmbeddedBrokerWithoutRabbitMq() throws Exception {
    String out = run(args -> Quickstart.run(NO_BROKER.mutate().serviceName("quickstart").build()));
    assertThat(out.lines().findFirst())
        .hasValue(
            "Bloodbank quickstart: running on the embedded in-process broker"
                + " (no RabbitMQ reachable at [127.0.0.1:1])");
    assertQuickstart(out);
  }

  @Test
  void observabilityExamplePrintsOneTraceAndTheMetrics() throws Exception {
    String out = run(ObservabilityExample::main);
    assertObservability(out);
  }

  @Test
  void observabilityExampleRunsOnTheEmbeddedBrokerToo() throws Exception {
    String out = run(args -> ObservabilityExample.run(NO_BROKER));
    assertObservability(out);
  }

  @Test
  void deadLetterExampleShowsTheFailureAndMovesTheEventBack() throws Exception {
    String out = run(DeadLetterExample::main);
    assertThat(out)
        .contains(DeadLetterExample.QUEUE + ".dlq holds 1 event(s)")
        .containsPattern(
            "llm.prompt \\S+ from "
                + DeadLetterExample.QUEUE
                + ": handler-failed after 2 attempt\\(s\\): model gateway unavailable")
        .contains("moved 1 back, 0 remaining")
        .containsPattern("handled \\S+: hello");
  }

  private static void assertObservability(String out) {
    String producer =
        out.lines().filter(l -> l.startsWith("span PRODUCER 'publish ")).findFirst().orElseThrow();
    String consumer =
        out.lines().filter(l -> l.startsWith("span CONSUMER 'process ")).findFirst().orElseThrow();
    String trace = producer.replaceAll(".* trace=(\\w+) .*", "$1");
    assertThat(consumer).contains("trace=" + trace);
    assertThat(out).contains("handled fireflies.transcript.upload in trace " + trace);
    assertThat(out)
        .containsPattern("bloodbank_publish_seconds_count\\{[^}]*outcome=\"confirmed\"[^}]*\\} 1")
        .containsPattern("bloodbank_consume_seconds_count\\{[^}]*outcome=\"handled\"[^}]*\\} 1");
  }

  private static void assertCommandExample(String out) {
    assertThat(out).contains("answer: You asked: \"What is the meaning of life?\"");
    assertThat(out).contains("(the command)").contains("(agent.thread.response)");
  }

  private static void assertQuickstart(String out) {
    assertThat(out).contains("done");
    assertThat(out.lines().filter(l -> l.startsWith("published "))).hasSize(3);
    assertThat(out.lines().filter(l -> l.startsWith("received fireflies.transcript.upload")))
        .hasSize(3);
  }
}
