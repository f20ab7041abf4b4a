package dev.bloodbank.examples;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.voice.AsrModel;
import dev.bloodbank.voice.RecognitionStream;
import dev.bloodbank.voice.RecognizerOptions;
import dev.bloodbank.voice.Segment;
import dev.bloodbank.voice.SpeechRecognizer;
import dev.bloodbank.voice.Transcriber;
import dev.bloodbank.voice.TranscriptionOptions;
import dev.bloodbank.voice.WavAudio;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Transcribes a WAV file with a streaming sherpa-onnx model and publishes each final segment as a
 * {@code transcription.voice.completed} event.
 *
 * <pre>
 * ./mvnw -q -pl examples exec:java -Dexample=dev.bloodbank.examples.TranscribeWav \
 *     -Dexec.args="path/to/sherpa-onnx-streaming-zipformer-en-2023-06-26 speech.wav"
 * </pre>
 *
 * <p>Arguments: {@code <model-dir> <file.wav> [--kind ...] [--endpoint-silence <seconds>] [--wal
 * <file>]} (run without arguments for the details). The bus connects as {@code RABBIT_URL} and the
 * other {@link BloodbankOptions#fromEnvironment() variables} say, else to localhost:5672; events
 * are written to the write-ahead log first ({@code WAL_PATH}, default {@code
 * raw_voice_ingest.wal}), and events a previous run could not publish are sent again at start.
 * Prints each segment with its event id. Exit status: 0 when every event was confirmed, 1 on a bad
 * model, WAV file or broker (the message names the file or address), or when events stay
 * unconfirmed in the log, 2 on a bad command line.
 */
public final class TranscribeWav {
  /** How long to wait for the broker to confirm the events: 30 seconds. */
  static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(30);

  private static final String USAGE =
      "usage: TranscribeWav <model-dir> <file.wav> [options]\n"
          + "Transcribes the file and publishes each segment as a "
          + Transcriber.EVENT_TYPE
          + " event.\n"
          + VoiceCommandLine.COMMON_OPTIONS;

  private TranscribeWav() {}

  /**
   * Runs the example; see the class description for the arguments.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    Map<String, String> env = System.getenv();
    int status =
        run(args, VoiceCommandLine.busOptions(env, "transcribe-wav"), env, System.out, System.err);
    if (status != 0) {
      System.exit(status);
    }
  }

  /**
   * Transcribes and publishes; returns the exit status instead of exiting, for tests.
   *
   * @param args the command line
   * @param busOptions how to reach the broker
   * @param env the environment ({@code WAL_PATH})
   * @param out where segments are printed
   * @param err where problems are printed
   * @return 0 on success, 1 on failure, 2 on a bad command line
   */
  static int run(
      String[] args,
      BloodbankOptions busOptions,
      Map<String, String> env,
      PrintStream out,
      PrintStream err) {
    try {
      VoiceCommandLine cl = VoiceCommandLine.parse(args, 2, Set.of());
      AsrModel model = cl.model(Path.of(cl.positional(0)));
      RecognizerOptions recognizerOptions = cl.recognizerOptions(model);
      TranscriptionOptions transcriptionOptions = cl.transcriptionOptions(env);
      // Before connecting: a bad file should not wait for a broker to say so.
      WavAudio audio = WavAudio.read(Path.of(cl.positional(1)));
      return transcribe(audio, recognizerOptions, busOptions, transcriptionOptions, out, err);
    } catch (VoiceCommandLine.UsageException e) {
      err.println("TranscribeWav: " + e.getMessage());
      err.print(USAGE);
      return 2;
    } catch (BloodbankException e) {
      // VoiceException (model, WAV, native library), ConnectionException, WalException: each
      // message names the file or the broker address at fault.
      err.println("TranscribeWav: " + e.getMessage());
      return 1;
    }
  }

  private static int transcribe(
      WavAudio audio,
      RecognizerOptions recognizerOptions,
      BloodbankOptions busOptions,
      TranscriptionOptions transcriptionOptions,
      PrintStream out,
      PrintStream err) {
    // [transcribe-wav]
    try (SpeechRecognizer recognizer = SpeechRecognizer.create(recognizerOptions);
        Bloodbank bus = Bloodbank.connect(busOptions);
        Transcriber transcriber = Transcriber.create(bus, recognizer, transcriptionOptions)) {
      // Events a previous run logged but could not publish (broker down, process killed).
      int replayed = transcriber.replayWal();
      if (replayed > 0) {
        out.printf(
            Locale.ROOT, "replayed %d event(s) from %s%n", replayed, transcriber.wal().path());
      }
      try (RecognitionStream stream =
          transcriber.openStream(segment -> print(out, transcriber, segment))) {
        out.printf(
            Locale.ROOT,
            "session %s: %.1f s of audio at %d Hz%n",
            stream.sessionId(),
            audio.durationSeconds(),
            audio.sampleRate());
        stream.acceptAll(audio); // in 100 ms chunks, then finish(): the last segment too
        boolean settled = transcriber.awaitPublished(PUBLISH_TIMEOUT);
        int pending = transcriber.pendingInWal();
        if (!settled || pending > 0) {
          err.printf(
              Locale.ROOT,
              "TranscribeWav: %d event(s) not confirmed by the broker; they stay in %s and are"
                  + " sent again on the next run%n",
              pending,
              transcriber.wal().path());
          return 1;
        }
        out.printf(
            Locale.ROOT,
            "published %d event(s) to exchange %s%n",
            stream.segmentCount(),
            bus.options().exchange());
      }
    }
    // [transcribe-wav]
    return 0;
  }

  private static void print(PrintStream out, Transcriber transcriber, Segment segment) {
    // The event id is derived from session id and segment index: the one being published.
    out.printf(
        Locale.ROOT,
        "segment %d [%.2f-%.2f s] \"%s\" event %s%n",
        segment.index(),
        segment.startSeconds(),
        segment.endSeconds(),
        segment.text(),
        transcriber.toEvent(segment).eventId());
  }
}
