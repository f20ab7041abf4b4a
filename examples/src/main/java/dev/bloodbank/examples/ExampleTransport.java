package dev.bloodbank.examples;

import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.Transport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * How the examples pick their broker: RabbitMQ when one answers at the configured addresses ({@code
 * RABBIT_URL} / {@code RABBITMQ_URL}, else localhost:5672), otherwise the embedded in-process
 * broker, so the examples run on a laptop with nothing installed.
 */
final class ExampleTransport {
  /** How long to wait for a TCP connection to each broker address. */
  private static final int PROBE_MILLIS = 1000;

  private ExampleTransport() {}

  /** The options with the embedded transport when no broker address accepts a connection. */
  static BloodbankOptions pick(BloodbankOptions options) {
    return reachable(options) ? options : options.mutate().transport(Transport.embedded()).build();
  }

  /** One line saying which broker the options use. */
  static String describe(BloodbankOptions requested, BloodbankOptions chosen) {
    return chosen.transport().isEmbedded()
        ? "the embedded in-process broker (no RabbitMQ reachable at " + requested.addresses() + ")"
        : "RabbitMQ at " + chosen.addresses();
  }

  private static boolean reachable(BloodbankOptions options) {
    if (options.transport().isEmbedded()) {
      return false;
    }
    for (BloodbankOptions.Address a : options.addresses()) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(a.host(), a.port()), PROBE_MILLIS);
        return true;
      } catch (IOException e) {
        // try the next one
      }
    }
    return false;
  }
}
