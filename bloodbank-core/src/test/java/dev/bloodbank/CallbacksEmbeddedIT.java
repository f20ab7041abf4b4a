package dev.bloodbank;

/** Every test of {@link CallbacksIT} on the embedded transport. */
@BrokerExtension.Embedded
class CallbacksEmbeddedIT extends CallbacksIT {}
