package dev.bloodbank.command;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import java.util.concurrent.CountDownLatch;

/**
 * Runs a command processor until the process is stopped: {@code java -cp <classpath>
 * dev.bloodbank.command.CommandProcessorMain}. Connects as {@link
 * BloodbankOptions#fromEnvironment()} says. {@code BLOODBANK_COMMAND_CLASSES} binds command types
 * to their {@link Invokable} classes: {@code agent.thread.prompt=com.acme.Prompt,...}.
 */
public final class CommandProcessorMain {
  private CommandProcessorMain() {}

  /**
   * Starts the processor and blocks until SIGTERM or SIGINT.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted while running
   */
  public static void main(String[] args) throws InterruptedException {
    Bloodbank bus = Bloodbank.connect(BloodbankOptions.fromEnvironment());
    String bindings = System.getenv("BLOODBANK_COMMAND_CLASSES");
    if (bindings != null && !bindings.isBlank()) {
      for (String binding : bindings.split(",")) {
        String[] kv = binding.trim().split("=", 2);
        if (kv.length != 2) {
          throw new IllegalArgumentException(
              "BLOODBANK_COMMAND_CLASSES entries must be <event type>=<class>, was '"
                  + binding
                  + "'");
        }
        try {
          bus.registry().bind(kv[0].trim(), Class.forName(kv[1].trim()));
        } catch (ClassNotFoundException e) {
          throw new IllegalArgumentException(
              "BLOODBANK_COMMAND_CLASSES: class " + kv[1].trim() + " is not on the classpath", e);
        }
      }
    }
    CommandProcessor processor = CommandProcessor.start(bus, CommandProcessorOptions.defaults());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  processor.close();
                  bus.close();
                  stopped.countDown();
                },
                "bloodbank-processor-shutdown"));
    System.out.println(
        "command processor running for "
            + processor.commandTypes()
            + " on queue '"
            + processor.subscriber().queueName()
            + "'");
    stopped.await();
  }
}
