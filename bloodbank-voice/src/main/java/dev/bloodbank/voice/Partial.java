package dev.bloodbank.voice;

import java.util.UUID;

/**
 * The text recognized so far in a stream's current segment; it may still change until the segment
 * ends. Immutable.
 *
 * @param sessionId the stream's session id
 * @param segmentIndex the index the segment will have as a {@link Segment}
 * @param text the text so far, trimmed
 * @param seconds how much input audio the stream has taken, in seconds
 */
public record Partial(UUID sessionId, int segmentIndex, String text, double seconds) {}
