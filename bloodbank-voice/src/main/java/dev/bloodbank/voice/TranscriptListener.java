package dev.bloodbank.voice;

/**
 * Receives what a {@link RecognitionStream} recognizes. Called on the thread that feeds the stream,
 * so keep it short; a listener that throws is logged and does not stop the stream.
 */
public interface TranscriptListener {
  /**
   * The current segment's text changed.
   *
   * @param partial the text so far
   */
  default void onPartial(Partial partial) {}

  /**
   * A segment ended and is final.
   *
   * @param segment the segment
   */
  void onSegment(Segment segment);
}
