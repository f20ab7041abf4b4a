package dev.bloodbank;

/**
 * Every test of {@link PublishSubscribeIT} on the embedded transport: routing with `*` and `#`,
 * properties on the wire, fan-out, mandatory returns, dead-lettering with failure metadata,
 * confirms under load.
 */
@BrokerExtension.Embedded
class PublishSubscribeEmbeddedIT extends PublishSubscribeIT {}
