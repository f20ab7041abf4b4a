package dev.bloodbank.command;

import dev.bloodbank.BrokerExtension;

/**
 * Every test of {@link CommandProcessorIT} on the embedded transport: commands, their side effects,
 * failures and idempotence; the connection-fault test stays on RabbitMQ.
 */
@BrokerExtension.Embedded
class CommandProcessorEmbeddedIT extends CommandProcessorIT {}
