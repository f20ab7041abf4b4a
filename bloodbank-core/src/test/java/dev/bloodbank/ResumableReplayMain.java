package dev.bloodbank;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.archive.OffsetStore;
import dev.bloodbank.archive.Replay;
import dev.bloodbank.archive.ReplayOptions;
import dev.bloodbank.validation.ValidationMode;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A resumable reader for {@link ReplayIT}, run in a child JVM that the test kills with SIGKILL.
 * Prints {@code READY}, then {@code H <offset> <n>} after handling each event, and {@code DONE} at
 * the end of the replay.
 *
 * <p>Arguments: exchange, service name, stream queue, offset file, milliseconds per event.
 */
public final class ResumableReplayMain {
  private ResumableReplayMain() {}

  public static void main(String[] args) throws Exception {
    String exchange = args[0];
    String service = args[1];
    String queue = args[2];
    Path file = Path.of(args[3]);
    long sleep = Long.parseLong(args[4]);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    try (Bloodbank bus =
        Bloodbank.connect(
            BloodbankOptions.builder()
                .address("127.0.0.1", 5672)
                .exchange(exchange)
                .serviceName(service)
                .validation(ValidationMode.PERMISSIVE)
                .build())) {
      out.println("READY");
      Replay replay =
          bus.replayWithDelivery(
              ReplayOptions.builder()
                  .queue(queue)
                  .resumeFrom(OffsetStore.file(file))
                  .storeEvery(10)
                  .prefetch(20)
                  .build(),
              JsonNode.class,
              (event, delivery) -> {
                if (sleep > 0) {
                  Thread.sleep(sleep);
                }
                out.println(
                    "H "
                        + delivery.offset().orElseThrow()
                        + " "
                        + event.payload().get("n").asInt());
              });
      replay.completion().get(60, TimeUnit.SECONDS);
      out.println("DONE");
    }
  }
}
