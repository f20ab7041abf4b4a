package dev.bloodbank;

/**
 * Every test of {@link CorrelationPublishIT} on the embedded transport: causation recorded as
 * events are confirmed.
 */
@BrokerExtension.Embedded
class CorrelationPublishEmbeddedIT extends CorrelationPublishIT {}
