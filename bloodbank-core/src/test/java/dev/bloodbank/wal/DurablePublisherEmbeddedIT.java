package dev.bloodbank.wal;

import dev.bloodbank.BrokerExtension;

/**
 * Every test of {@link DurablePublisherIT} on the embedded transport: the write-ahead log in front
 * of the broker.
 */
@BrokerExtension.Embedded
class DurablePublisherEmbeddedIT extends DurablePublisherIT {}
