/**
 * An in-process emulation of the parts of RabbitMQ that Bloodbank uses, for tests and demos only.
 *
 * <p>{@link dev.bloodbank.embedded.EmbeddedBroker} holds exchanges, queues, bindings and consumers
 * in memory and hands out {@link com.rabbitmq.client.Connection}s that implement amqp-client's
 * interfaces, so the SDK's publisher and subscriber run unchanged on it. Select it with {@code
 * BloodbankOptions.builder().transport(Transport.embedded())}. It is not a broker for production:
 * nothing survives the JVM, and there is no network, recovery or flow control.
 *
 * <p>Everything in this package is non-null unless marked {@code @Nullable}.
 */
@NullMarked
package dev.bloodbank.embedded;

import org.jspecify.annotations.NullMarked;
