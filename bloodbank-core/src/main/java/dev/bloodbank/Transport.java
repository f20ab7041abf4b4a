package dev.bloodbank;

import dev.bloodbank.embedded.EmbeddedBroker;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * How a {@link Bloodbank} reaches its broker: over AMQP to RabbitMQ ({@link #amqp()}, the default)
 * or in process to an {@link EmbeddedBroker} ({@link #embedded()}), for tests and demos.
 *
 * <p>The publisher and subscriber are the same code on both: the embedded broker implements
 * amqp-client's {@code Connection} and {@code Channel} interfaces and RabbitMQ's routing, confirms,
 * returns, acknowledgements, prefetch, TTL and dead-lettering. What it does not emulate (recovery,
 * durability across restarts, flow control...) is listed on {@link EmbeddedBroker}.
 *
 * <p>Immutable and thread-safe.
 */
public final class Transport {
  private static final Transport AMQP = new Transport(false, null);

  private final boolean embedded;
  private final @Nullable EmbeddedBroker broker;

  private Transport(boolean embedded, @Nullable EmbeddedBroker broker) {
    this.embedded = embedded;
    this.broker = broker;
  }

  /**
   * RabbitMQ over AMQP 0-9-1 at {@link BloodbankOptions#addresses()}: the default.
   *
   * @return the AMQP transport
   */
  public static Transport amqp() {
    return AMQP;
  }

  /**
   * An in-process broker of the bus's own, created when the bus connects and closed with it. Test
   * and demo use only: events live in memory and are gone when the bus closes. The broker
   * addresses, credentials, TLS and recovery options are ignored.
   *
   * @return the embedded transport
   */
  public static Transport embedded() {
    return new Transport(true, null);
  }

  /**
   * An in-process broker the caller owns, so that several buses (and the test that inspects it)
   * share one; closing a bus does not close it. Test and demo use only.
   *
   * @param broker the broker
   * @return the embedded transport on that broker
   */
  public static Transport embedded(EmbeddedBroker broker) {
    return new Transport(true, Objects.requireNonNull(broker, "broker"));
  }

  /**
   * Returns whether this is an in-process broker.
   *
   * @return true for {@link #embedded()} and {@link #embedded(EmbeddedBroker)}
   */
  public boolean isEmbedded() {
    return embedded;
  }

  /**
   * Returns the broker given to {@link #embedded(EmbeddedBroker)}.
   *
   * @return the broker, or empty for {@link #amqp()} and for {@link #embedded()}, whose broker is
   *     made by the bus
   */
  public Optional<EmbeddedBroker> broker() {
    return Optional.ofNullable(broker);
  }

  /** Returns {@code amqp}, {@code embedded} or {@code embedded(<broker>)}. */
  @Override
  public String toString() {
    return !embedded ? "amqp" : broker == null ? "embedded" : "embedded(" + broker + ")";
  }
}
