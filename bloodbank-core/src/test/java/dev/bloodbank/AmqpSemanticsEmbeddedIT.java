package dev.bloodbank;

/** Every test of {@link AmqpSemanticsIT} on the embedded broker. */
@BrokerExtension.Embedded
class AmqpSemanticsEmbeddedIT extends AmqpSemanticsIT {}
