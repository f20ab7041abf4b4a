/**
 * A JSONL write-ahead log of events: a durable outbox that any publisher can use, so that an event
 * accepted by the application survives a broker outage or a crash.
 */
@NullMarked
package dev.bloodbank.wal;

import org.jspecify.annotations.NullMarked;
