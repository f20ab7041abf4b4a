package dev.bloodbank;

import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.validation.EventValidator;
import dev.bloodbank.validation.ValidationMode;

/** A {@link BusContext} without a broker, for unit tests of publishers and subscribers. */
final class TestContexts {
  private TestContexts() {}

  /** Exchange "ex", service "svc", no validation, no causation; connections never started. */
  static BusContext create(BusThreads threads) {
    BloodbankOptions options =
        BloodbankOptions.builder()
            .exchange("ex")
            .serviceName("svc")
            .validation(ValidationMode.SKIP)
            .build();
    EventCodec codec = EventCodec.create(DecodeLimits.defaults());
    return new BusContext(
        options,
        threads,
        new BusConnections(options, threads, null),
        new EventChecks(
            codec,
            EventValidator.create(EventRegistry.fromClasspath(), codec.objectMapper()),
            ValidationMode.SKIP,
            null));
  }
}
