package dev.bloodbank;

/**
 * Every test of {@link ValidationIT} on the embedded transport: validation before sending and on
 * receipt.
 */
@BrokerExtension.Embedded
class ValidationEmbeddedIT extends ValidationIT {}
