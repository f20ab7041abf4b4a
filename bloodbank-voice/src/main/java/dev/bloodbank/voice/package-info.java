/**
 * Embedded streaming speech recognition on sherpa-onnx, and publishing its final segments as {@code
 * transcription.voice.completed} events through a write-ahead log.
 */
@NullMarked
package dev.bloodbank.voice;

import org.jspecify.annotations.NullMarked;
