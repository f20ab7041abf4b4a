package dev.bloodbank;

import dev.bloodbank.internal.BusObserver;

/**
 * What a bus's publishers and subscribers share: its options, threads, connections and event
 * checks. Handed to each child instead of the facade.
 *
 * @param options the bus's options
 * @param threads the timer, I/O and callback executors
 * @param connections the publishing and consuming connections
 * @param checks validation before sending and after receiving, causation recording
 * @param observer metrics and observations, {@link BusObserver#NOOP} when none are configured
 */
record BusContext(
    BloodbankOptions options,
    BusThreads threads,
    BusConnections connections,
    EventChecks checks,
    BusObserver observer) {

  BusContext(
      BloodbankOptions options,
      BusThreads threads,
      BusConnections connections,
      EventChecks checks) {
    this(options, threads, connections, checks, BusObserver.NOOP);
  }

  EventCodec codec() {
    return checks.codec();
  }
}
