package dev.bloodbank.wal;

import java.util.UUID;

/**
 * An event in the log that the broker has not confirmed yet.
 *
 * @param seq the record's sequence number in the log
 * @param eventId the event's id
 * @param eventType the event's type
 * @param event the event as its JSON wire bytes
 */
public record WalRecord(long seq, UUID eventId, String eventType, byte[] event) {}
