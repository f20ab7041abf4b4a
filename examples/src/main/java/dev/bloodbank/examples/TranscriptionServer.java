package dev.bloodbank.examples;

import dev.bloodbank.BloodbankException;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.server.BloodbankServer;
import dev.bloodbank.server.ServerOptions;
import dev.bloodbank.voice.AsrModel;
import dev.bloodbank.voice.RecognizerOptions;
import dev.bloodbank.voice.Transcriber;
import dev.bloodbank.voice.TranscriptionOptions;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * bloodbank-server with only speech in mind: loads a model and serves the WhisperLiveKit protocol
 * on {@code ws://host:port/asr}; clients stream audio in, get partial and final text back, and each
 * final segment is published as a {@code transcription.voice.completed} event, through the
 * write-ahead log first. The server underneath is {@link BloodbankServer} (Jetty), so the same
 * process also answers the HTTP gateway's routes and the dashboard.
 *
 * <pre>
 * ./mvnw -q -pl examples exec:java -Dexample=dev.bloodbank.examples.TranscriptionServer \
 *     -Dexec.args="path/to/sherpa-onnx-streaming-zipformer-en-2023-06-26 --port 8765"
 * </pre>
 *
 * <p>Protocol, on {@code ws://host:port/asr}:
 *
 * <ul>
 *   <li>the client sends binary frames of 16 kHz, 16-bit little-endian, mono PCM, of any size (an
 *       odd byte at the end of a frame is kept for the next one);
 *   <li>the server first sends {@code {"type":"session_info","session_id":"..."}}, then {@code
 *       {"type":"partial","text":"...","is_final":false,"timestamp":"..."}} whenever the current
 *       segment's text changes and {@code {"type":"final","text":"...","is_final":true,...}} for
 *       each final segment (finals also carry {@code segment}, {@code start} and {@code end} in
 *       seconds of audio, and the {@code event_id} they were published under);
 *   <li>an empty binary frame ends the audio: the last segment is sent and the server closes the
 *       connection (1000). A client's close frame does the same. A text frame is refused with close
 *       code 1003, a message over 1 MiB with 1009.
 * </ul>
 *
 * <p>Arguments: {@code <model-dir> [--port 8765] [--host 127.0.0.1] [--kind ...]
 * [--endpoint-silence <seconds>] [--wal <file>]}. The bus and the write-ahead log are configured as
 * for {@link TranscribeWav}. Ctrl-C stops the server: open streams are finished and their events
 * published (or kept in the log) first. For a deployment, run {@code bb serve} with {@code
 * BLOODBANK_SERVER_ASR_MODEL} instead (see docs/gateway.md).
 */
public final class TranscriptionServer implements AutoCloseable {
  /** Default port: 8765. */
  static final int DEFAULT_PORT = 8765;

  /** Default address to listen on: loopback only; {@code --host 0.0.0.0} for every interface. */
  static final String DEFAULT_HOST = "127.0.0.1";

  /** The WebSocket path. */
  static final String PATH = "/asr";

  private static final String USAGE =
      "usage: TranscriptionServer <model-dir> [options]\n"
          + "Serves WhisperLiveKit-style transcription on ws://<host>:<port>"
          + PATH
          + " and publishes each final segment\nas a "
          + Transcriber.EVENT_TYPE
          + " event.\n"
          + "  --port <port>\n      default: "
          + DEFAULT_PORT
          + "\n  --host <address>\n      default: "
          + DEFAULT_HOST
          + " (0.0.0.0 needs API keys: see docs/gateway.md)\n"
          + VoiceCommandLine.COMMON_OPTIONS;

  private final BloodbankServer server;

  private TranscriptionServer(BloodbankServer server) {
    this.server = server;
  }

  /**
   * Runs the server until Ctrl-C; see the class description for the arguments.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    Map<String, String> env = System.getenv();
    int status =
        run(
            args,
            VoiceCommandLine.busOptions(env, "transcription-server"),
            env,
            System.out,
            System.err);
    if (status != 0) {
      System.exit(status);
    }
  }

  /**
   * Starts the server and waits until it is stopped; returns the exit status, for tests.
   *
   * @return 0 after a stop, 1 when it could not start, 2 on a bad command line
   */
  static int run(
      String[] args,
      BloodbankOptions busOptions,
      Map<String, String> env,
      PrintStream out,
      PrintStream err) {
    TranscriptionServer server;
    try {
      VoiceCommandLine cl = VoiceCommandLine.parse(args, 1, Set.of("port", "host"));
      int port = port(cl.option("port", String.valueOf(DEFAULT_PORT)));
      AsrModel model = cl.model(Path.of(cl.positional(0)));
      server =
          start(
              new InetSocketAddress(cl.option("host", DEFAULT_HOST), port),
              cl.recognizerOptions(model),
              busOptions,
              cl.transcriptionOptions(env));
    } catch (VoiceCommandLine.UsageException | IllegalArgumentException e) {
      err.println("TranscriptionServer: " + e.getMessage());
      err.print(USAGE);
      return 2;
    } catch (BloodbankException e) {
      err.println("TranscriptionServer: " + e.getMessage());
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "transcription-server-stop"));
    if (server.replayed() > 0) {
      out.printf(Locale.ROOT, "replayed %d event(s) from the write-ahead log%n", server.replayed());
    }
    out.printf(
        Locale.ROOT,
        "listening on ws://%s:%d%s (16 kHz 16-bit little-endian mono PCM); Ctrl-C stops%n",
        server.address().getHostString(),
        server.port(),
        PATH);
    server.awaitStop();
    return 0;
  }

  private static int port(String s) throws VoiceCommandLine.UsageException {
    try {
      int p = Integer.parseInt(s);
      if (p >= 0 && p <= 65535) {
        return p;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new VoiceCommandLine.UsageException("--port must be 0 to 65535, was '" + s + "'");
  }

  /**
   * Loads the model, connects, replays the write-ahead log and starts listening.
   *
   * @param address where to listen; port 0 picks a free one ({@link #port()})
   * @throws dev.bloodbank.voice.VoiceException for a bad model (the message names the file)
   * @throws dev.bloodbank.ConnectionException when the broker cannot be reached
   */
  static TranscriptionServer start(
      InetSocketAddress address,
      RecognizerOptions recognizerOptions,
      BloodbankOptions busOptions,
      TranscriptionOptions transcriptionOptions) {
    return new TranscriptionServer(
        BloodbankServer.start(
            ServerOptions.builder()
                .host(address.getHostString())
                .port(address.getPort())
                .bus(busOptions)
                .speech(recognizerOptions, transcriptionOptions)
                .build()));
  }

  /** The port the server listens on. */
  int port() {
    return server.port();
  }

  /** The address the server listens on. */
  InetSocketAddress address() {
    return server.address();
  }

  /** How many events from the write-ahead log were published at start. */
  int replayed() {
    return server.replayed();
  }

  /** Blocks until {@link #close()}. */
  void awaitStop() {
    try {
      server.awaitStop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops listening, finishes every open stream (their last segments are sent and published), waits
   * for the events in flight, then closes the recognizer and the bus. Idempotent.
   */
  @Override
  public void close() {
    server.close();
  }
}
