package dev.bloodbank.voice;

import dev.bloodbank.BloodbankException;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * Speech recognition could not start or go on. The {@link #kind()} says what failed; the message
 * names the file, the limit or the value at fault. The JVM and other streams keep running.
 */
public final class VoiceException extends BloodbankException {
  private static final long serialVersionUID = 1L;

  /** What failed. */
  public enum Kind {
    /** The sherpa-onnx or onnxruntime shared libraries could not be found or loaded. */
    NATIVE_LIBRARY,
    /** A model or tokens file is missing, unreadable, corrupt or of the wrong kind. */
    MODEL,
    /** Audio input is malformed: a WAV file, a sample rate, a buffer. */
    AUDIO,
    /** The native engine refused a configuration or an operation. */
    ENGINE,
    /** The recognizer or stream was already closed. */
    CLOSED,
    /**
     * Segments arrive faster than the write-ahead log takes them (the disk has stalled).
     *
     * @since 0.2.0
     */
    OVERLOADED
  }

  private final Kind kind;

  VoiceException(Kind kind, String message, @Nullable Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  /**
   * Returns what failed.
   *
   * @return the kind
   */
  public Kind kind() {
    return kind;
  }

  /**
   * A native library problem.
   *
   * @param message names the directory or file and what is wrong
   * @param cause the loader's error, if any
   * @return the exception
   */
  public static VoiceException newNativeLibrary(String message, @Nullable Throwable cause) {
    return new VoiceException(Kind.NATIVE_LIBRARY, message, cause);
  }

  /**
   * A bad model or tokens file.
   *
   * @param file the file at fault
   * @param problem what is wrong with it
   * @return the exception, with a message starting with the file
   */
  public static VoiceException newModel(Path file, String problem) {
    return new VoiceException(Kind.MODEL, "model file " + file + ": " + problem, null);
  }

  /**
   * A bad model or tokens file, with a cause.
   *
   * @param file the file at fault
   * @param problem what is wrong with it
   * @param cause the underlying error
   * @return the exception, with a message starting with the file
   */
  public static VoiceException newModel(Path file, String problem, Throwable cause) {
    return new VoiceException(Kind.MODEL, "model file " + file + ": " + problem, cause);
  }

  /**
   * Malformed audio.
   *
   * @param message names the file or parameter and the allowed range
   * @param cause the underlying error, if any
   * @return the exception
   */
  public static VoiceException newAudio(String message, @Nullable Throwable cause) {
    return new VoiceException(Kind.AUDIO, message, cause);
  }

  /**
   * The native engine refused something.
   *
   * @param message what was refused
   * @return the exception
   */
  public static VoiceException newEngine(String message) {
    return new VoiceException(Kind.ENGINE, message, null);
  }

  /**
   * Use after close.
   *
   * @param what the closed object
   * @return the exception
   */
  public static VoiceException newClosed(String what) {
    return new VoiceException(Kind.CLOSED, what + " is closed", null);
  }
}
