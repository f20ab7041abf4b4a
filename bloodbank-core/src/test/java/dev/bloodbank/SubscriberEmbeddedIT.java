package dev.bloodbank;

/**
 * Every test of {@link SubscriberIT} on the embedded transport: retries through TTL queues,
 * graceful and timed-out shutdown with redelivery, quorum queues and their arguments, inequivalent
 * redeclaration, bad input, prefetch and concurrency.
 */
@BrokerExtension.Embedded
class SubscriberEmbeddedIT extends SubscriberIT {}
