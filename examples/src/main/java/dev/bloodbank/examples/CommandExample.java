package dev.bloodbank.examples;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.command.CommandClient;
import dev.bloodbank.command.CommandContext;
import dev.bloodbank.command.CommandProcessor;
import dev.bloodbank.command.CommandProcessorOptions;
import dev.bloodbank.command.EventCollector;
import dev.bloodbank.command.Invokable;
import dev.bloodbank.correlation.CorrelationGraph;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.schemas.agent.ThreadPrompt;
import dev.bloodbank.schemas.agent.ThreadResponse;
import java.time.Duration;
import java.util.UUID;

/**
 * A command end to end: {@code agent.thread.prompt} executed by a fake provider, which publishes
 * {@code agent.thread.response}; then the causation chain, read back from the tracker.
 *
 * <p>Run it with {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl examples exec:java
 * -Dexample=dev.bloodbank.examples.CommandExample}. Causation goes to Redis when {@code REDIS_URL}
 * is set, otherwise to an in-memory tracker; without a reachable RabbitMQ it runs on the embedded
 * broker.
 */
public final class CommandExample {
  private CommandExample() {}

  /** The command: the generated payload class, taught to execute itself. */
  public static final class FakeProviderPrompt extends ThreadPrompt implements Invokable<String> {
    @Override
    public String execute(CommandContext context, EventCollector events) {
      String answer = "You asked: \"" + getPrompt() + "\". The answer is 42.";
      events.add(
          "agent.thread.response",
          new ThreadResponse()
              .withProvider(getProvider())
              .withModel(getModel())
              .withResponse(answer)
              .withTokensUsed(answer.length() / 4)
              .withDurationMs(1));
      return answer;
    }
  }

  /**
   * Runs the example.
   *
   * @param args ignored
   * @throws Exception if the command fails or times out
   */
  public static void main(String[] args) throws Exception {
    run(BloodbankOptions.fromEnvironment());
  }

  /** Runs the example on the broker of these options, or on the embedded one. */
  static void run(BloodbankOptions env) throws Exception {
    BloodbankOptions.Builder options = env.mutate().serviceName("command-example");
    if (env.correlation() == null) {
      options.correlationTracker(CorrelationTracker.inMemory());
    }
    BloodbankOptions chosen = ExampleTransport.pick(options.build());
    System.out.println("Command example: running on " + ExampleTransport.describe(env, chosen));
    try (Bloodbank bus = Bloodbank.connect(chosen)) {
      bus.registry().bind("agent.thread.prompt", FakeProviderPrompt.class);
      try (CommandProcessor processor =
              CommandProcessor.start(bus, CommandProcessorOptions.defaults());
          CommandClient client = CommandClient.create(bus)) {
        EventEnvelope<ThreadPrompt> command =
            EventEnvelope.builder(
                    "agent.thread.prompt",
                    new ThreadPrompt()
                        .withProvider("fake")
                        .withModel("fake-1")
                        .withPrompt("What is the meaning of life?"))
                .build();
        String answer = client.send(command, String.class, Duration.ofSeconds(30)).get();
        System.out.println("answer: " + answer);

        // Links are recorded once the broker confirmed each event; wait for both children.
        CorrelationTracker tracker = bus.correlationTracker().orElseThrow();
        CorrelationGraph chain = tracker.descendants(command.eventId(), 3).get();
        for (int i = 0; i < 50 && chain.nodes().size() < 2; i++) {
          Thread.sleep(100);
          chain = tracker.descendants(command.eventId(), 3).get();
        }
        System.out.println("causation chain:");
        for (int depth = 0; depth < chain.levels().size(); depth++) {
          for (UUID id : chain.levels().get(depth)) {
            System.out.println("  ".repeat(depth) + "└─ " + id + " " + describe(tracker, id));
          }
        }
      }
    }
  }

  private static String describe(CorrelationTracker tracker, UUID id) throws Exception {
    Object type = tracker.debugDump(id).get().node().metadata().get("event_type");
    return type == null ? "(the command)" : "(" + type + ")";
  }
}
