package dev.bloodbank.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.voice.AsrModel;
import dev.bloodbank.voice.Partial;
import dev.bloodbank.voice.RecognitionStream;
import dev.bloodbank.voice.RecognizerOptions;
import dev.bloodbank.voice.Segment;
import dev.bloodbank.voice.SpeechRecognizer;
import dev.bloodbank.voice.Transcriber;
import dev.bloodbank.voice.TranscriptListener;
import dev.bloodbank.voice.TranscriptionOptions;
import dev.bloodbank.voice.VoiceException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A WebSocket server speaking the WhisperLiveKit protocol: clients stream audio in, get partial and
 * final text back, and each final segment is published as a {@code transcription.voice.completed}
 * event.
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
 *       {"text":"...","is_final":false,"timestamp":"..."}} whenever the current segment's text
 *       changes and {@code {"text":"...","is_final":true,"timestamp":"..."}} for each final segment
 *       (the timestamp is ISO-8601 UTC; finals also carry {@code segment}, {@code start} and {@code
 *       end} in seconds of audio, and the {@code event_id} they were published under);
 *   <li>an empty binary frame ends the audio: the last segment is sent and the server closes the
 *       connection (1000). A client's close frame does the same, the last segment going out before
 *       the server's close frame. A text frame is refused with close code 1003, a message over 1
 *       MiB with 1009.
 * </ul>
 *
 * <p>Arguments: {@code <model-dir> [--port 8765] [--host 127.0.0.1] [--kind ...]
 * [--endpoint-silence <seconds>] [--wal <file>]}. The bus and the write-ahead log are configured as
 * for {@link TranscribeWav}. Ctrl-C stops the server: open streams are finished and their events
 * published (or kept in the log) first. The WebSocket server underneath is example grade (see
 * {@link MiniWebSocketServer}).
 */
public final class TranscriptionServer implements AutoCloseable {
  /** Default port: 8765. */
  static final int DEFAULT_PORT = 8765;

  /** Default address to listen on: loopback only; {@code --host 0.0.0.0} for every interface. */
  static final String DEFAULT_HOST = "127.0.0.1";

  /** The WebSocket path. */
  static final String PATH = "/asr";

  /** The audio format clients send: 16 kHz (16-bit little-endian mono PCM). */
  static final int SAMPLE_RATE = 16_000;

  private static final Logger LOG = LoggerFactory.getLogger(TranscriptionServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();

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
          + " (0.0.0.0 for every interface)\n"
          + VoiceCommandLine.COMMON_OPTIONS;

  private final SpeechRecognizer recognizer;
  private final Bloodbank bus;
  private final Transcriber transcriber;
  private final int replayed;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private MiniWebSocketServer webSocket;

  private TranscriptionServer(
      SpeechRecognizer recognizer, Bloodbank bus, Transcriber transcriber, int replayed) {
    this.recognizer = recognizer;
    this.bus = bus;
    this.transcriber = transcriber;
    this.replayed = replayed;
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
    } catch (VoiceCommandLine.UsageException e) {
      err.println("TranscriptionServer: " + e.getMessage());
      err.print(USAGE);
      return 2;
    } catch (BloodbankException | IOException e) {
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
   * @throws IOException when the address cannot be bound
   */
  static TranscriptionServer start(
      InetSocketAddress address,
      RecognizerOptions recognizerOptions,
      BloodbankOptions busOptions,
      TranscriptionOptions transcriptionOptions)
      throws IOException {
    SpeechRecognizer recognizer = SpeechRecognizer.create(recognizerOptions);
    Bloodbank bus = null;
    Transcriber transcriber = null;
    try {
      bus = Bloodbank.connect(busOptions);
      transcriber = Transcriber.create(bus, recognizer, transcriptionOptions);
      // Events a previous run logged but could not publish (broker down, process killed).
      int replayed = transcriber.replayWal();
      TranscriptionServer server = new TranscriptionServer(recognizer, bus, transcriber, replayed);
      server.webSocket =
          MiniWebSocketServer.start(
              address,
              PATH,
              MiniWebSocketServer.DEFAULT_MAX_MESSAGE_BYTES,
              MiniWebSocketServer.DEFAULT_MAX_CONNECTIONS,
              server::newSession);
      return server;
    } catch (IOException | RuntimeException e) {
      if (transcriber != null) {
        transcriber.close();
      }
      if (bus != null) {
        bus.close();
      }
      recognizer.close();
      throw e;
    }
  }

  /** The port the server listens on. */
  int port() {
    return webSocket.port();
  }

  /** The address the server listens on. */
  InetSocketAddress address() {
    return webSocket.address();
  }

  /** How many events from the write-ahead log were published at start. */
  int replayed() {
    return replayed;
  }

  /** The transcriber, for tests. */
  Transcriber transcriber() {
    return transcriber;
  }

  /** Blocks until {@link #close()}. */
  void awaitStop() {
    try {
      stopped.await();
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
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      webSocket.close();
      transcriber.close();
    } finally {
      recognizer.close();
      bus.close();
      stopped.countDown();
    }
  }

  private MiniWebSocketServer.Handler newSession(MiniWebSocketServer.Connection connection) {
    return new Session(connection);
  }

  /** Seconds rounded to milliseconds: token times are float, and 3.079999988 helps nobody. */
  private static double millis(double seconds) {
    return Math.round(seconds * 1000) / 1000.0;
  }

  /** One client's audio stream. Runs on the connection's thread. */
  private final class Session implements MiniWebSocketServer.Handler, TranscriptListener {
    private final MiniWebSocketServer.Connection connection;
    private final RecognitionStream stream;

    /** The odd byte at the end of the last frame (a sample split across frames), or -1. */
    private int carry = -1;

    private boolean ended;

    Session(MiniWebSocketServer.Connection connection) {
      this.connection = connection;
      this.stream = transcriber.openStream(this);
      connection.sendText(stream.sessionInfo());
      LOG.info("session {} opened for {}", stream.sessionId(), connection.remoteAddress());
    }

    @Override
    public void onBinary(MiniWebSocketServer.Connection c, byte[] data) {
      if (ended) {
        return;
      }
      if (data.length == 0) {
        end();
        c.close(MiniWebSocketServer.NORMAL_CLOSURE, "end of audio");
        return;
      }
      byte[] pcm = data;
      if (carry >= 0) {
        pcm = new byte[data.length + 1];
        pcm[0] = (byte) carry;
        System.arraycopy(data, 0, pcm, 1, data.length);
      }
      int even = pcm.length & ~1;
      carry = even < pcm.length ? pcm[even] & 0xFF : -1;
      if (even > 0) {
        stream.acceptPcm16(pcm, 0, even, SAMPLE_RATE);
      }
    }

    @Override
    public void onText(MiniWebSocketServer.Connection c, String text) {
      c.close(
          MiniWebSocketServer.UNSUPPORTED_DATA,
          "send audio as binary frames of 16 kHz 16-bit little-endian mono PCM");
    }

    @Override
    public void onClose(MiniWebSocketServer.Connection c, int code, String reason) {
      end();
    }

    /** Finishes the stream: its last segment goes to the client (if still open) and the bus. */
    private void end() {
      if (ended) {
        return;
      }
      ended = true;
      try {
        stream.finish();
      } catch (VoiceException e) {
        LOG.warn("session {}: finishing failed: {}", stream.sessionId(), e.getMessage());
      } finally {
        stream.close();
      }
      LOG.info(
          "session {} ended: {} segment(s) in {} s of audio{}",
          stream.sessionId(),
          stream.segmentCount(),
          String.format(Locale.ROOT, "%.1f", stream.secondsAccepted()),
          carry >= 0 ? ", a trailing odd byte dropped" : "");
    }

    @Override
    public void onPartial(Partial partial) {
      ObjectNode m = JSON.createObjectNode();
      m.put("text", partial.text());
      m.put("is_final", false);
      m.put("timestamp", Instant.now().toString());
      m.put("segment", partial.segmentIndex());
      connection.sendText(m.toString());
    }

    @Override
    public void onSegment(Segment segment) {
      ObjectNode m = JSON.createObjectNode();
      m.put("text", segment.text());
      m.put("is_final", true);
      m.put("timestamp", segment.endedAt().toString());
      m.put("segment", segment.index());
      m.put("start", millis(segment.startSeconds()));
      m.put("end", millis(segment.endSeconds()));
      m.put("event_id", transcriber.toEvent(segment).eventId().toString());
      connection.sendText(m.toString());
    }
  }
}
