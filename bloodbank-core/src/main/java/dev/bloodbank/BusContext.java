package dev.bloodbank;

/**
 * What a bus's publishers and subscribers share: its options, threads, connections and event
 * checks. Handed to each child instead of the facade.
 *
 * @param options the bus's options
 * @param threads the timer, I/O and callback executors
 * @param connections the publishing and consuming connections
 * @param checks validation before sending and after receiving, causation recording
 */
record BusContext(
    BloodbankOptions options, BusThreads threads, BusConnections connections, EventChecks checks) {

  EventCodec codec() {
    return checks.codec();
  }
}
