package dev.bloodbank.server.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.voice.Partial;
import dev.bloodbank.voice.RecognitionStream;
import dev.bloodbank.voice.Segment;
import dev.bloodbank.voice.Transcriber;
import dev.bloodbank.voice.TranscriptListener;
import dev.bloodbank.voice.VoiceException;
import io.javalin.websocket.WsBinaryMessageContext;
import io.javalin.websocket.WsCloseContext;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsConnectContext;
import io.javalin.websocket.WsContext;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /asr}: the WhisperLiveKit protocol. Binary frames of 16 kHz 16-bit little-endian mono PCM
 * in; {@code session_info} first, then partial ({@code is_final:false}) and final ({@code
 * is_final:true}, with the {@code event_id} it was published under) messages out. An empty binary
 * frame ends the audio: the last segment is sent and the server closes (1000). Finals go through
 * the transcriber's write-ahead log before they are published.
 *
 * <p>Backpressure: audio is decoded on the connection's thread, so a client sending faster than the
 * model decodes is slowed by TCP. Messages out are sent without blocking; while more than {@value
 * #SKIP_PARTIALS_AT} are unsent, partials are skipped (the next one supersedes them), and past
 * {@value #MAX_UNSENT} the client is closed (1008) as too slow. Finals are never skipped: they are
 * in the log and on the bus whatever the client reads.
 */
final class AsrEndpoint {
  private static final Logger LOG = LoggerFactory.getLogger(AsrEndpoint.class);

  static final int SAMPLE_RATE = 16_000;
  static final int SKIP_PARTIALS_AT = 32;
  static final int MAX_UNSENT = 1024;

  static final int NORMAL = 1000;
  static final int GOING_AWAY = 1001;
  static final int UNSUPPORTED = 1003;
  static final int POLICY = 1008;

  static final int TRY_AGAIN_LATER = 1013;

  private final Transcriber transcriber;
  private final int maxSessions;
  private final Map<String, AsrSession> sessions = new ConcurrentHashMap<>();
  private boolean closed; // guarded by this

  AsrEndpoint(Transcriber transcriber, int maxSessions) {
    this.transcriber = transcriber;
    this.maxSessions = maxSessions;
  }

  int sessionCount() {
    return sessions.size();
  }

  void configure(WsConfig ws) {
    ws.onConnect(this::connect);
    ws.onBinaryMessage(this::audio);
    ws.onMessage(
        ctx ->
            ctx.closeSession(
                UNSUPPORTED,
                "send audio as binary frames of 16 kHz 16-bit little-endian mono PCM"));
    ws.onClose(this::closed);
    ws.onError(ctx -> end(ctx, null));
  }

  private void connect(WsConnectContext ctx) {
    AsrSession s = new AsrSession(ctx.session, ctx.attribute(Gateway.CLIENT_ATTRIBUTE));
    // The upgrade's check is only a cheap early answer: upgrades that arrive together all pass
    // it, so the limit holds here, where a session is counted.
    synchronized (this) {
      if (closed) {
        ctx.closeSession(GOING_AWAY, "server shutting down");
        return;
      }
      if (sessions.size() >= maxSessions) {
        ctx.closeSession(
            TRY_AGAIN_LATER, "the server already runs " + maxSessions + " speech sessions");
        return;
      }
      sessions.put(ctx.sessionId(), s);
    }
    try {
      s.open();
    } catch (RuntimeException e) {
      sessions.remove(ctx.sessionId());
      LOG.warn("asr session could not open: {}", e.toString());
      ctx.closeSession(1011, "the speech session could not start");
    }
  }

  private void audio(WsBinaryMessageContext ctx) {
    AsrSession s = sessions.get(ctx.sessionId());
    if (s != null) {
      s.audio(ctx.data());
    }
  }

  private void closed(WsCloseContext ctx) {
    end(ctx, null);
  }

  private void end(WsContext ctx, Integer code) {
    AsrSession s = sessions.remove(ctx.sessionId());
    if (s != null) {
      s.end(code, "");
    }
  }

  /** Finishes every session: last segments published, then each is closed with 1001. */
  void close() {
    synchronized (this) {
      closed = true;
    }
    for (String id : sessions.keySet()) {
      AsrSession s = sessions.remove(id);
      if (s != null) {
        try {
          s.end(GOING_AWAY, "server shutting down");
        } catch (RuntimeException e) {
          LOG.warn("asr session {}: ending at shutdown failed: {}", id, e.toString());
        }
      }
    }
  }

  private static double millis(double seconds) {
    return Math.round(seconds * 1000) / 1000.0;
  }

  /** One client's audio stream. */
  private final class AsrSession implements TranscriptListener {
    private final Session ws;
    private final String client;
    private final AtomicInteger unsent = new AtomicInteger();
    private @Nullable RecognitionStream stream;
    private int carry = -1;
    private boolean ended;

    AsrSession(Session ws, Object client) {
      this.ws = ws;
      this.client = String.valueOf(client);
    }

    synchronized void open() {
      stream = transcriber.openStream(this);
      send(stream.sessionInfo(), true);
      LOG.info(
          "asr session {} opened by {} from {}",
          stream.sessionId(),
          client,
          ws.getRemoteSocketAddress());
    }

    synchronized void audio(ByteBuffer data) {
      if (ended) {
        return;
      }
      if (!data.hasRemaining()) {
        end(NORMAL, "end of audio");
        return;
      }
      int n = data.remaining() + (carry >= 0 ? 1 : 0);
      byte[] pcm = new byte[n];
      int off = 0;
      if (carry >= 0) {
        pcm[0] = (byte) carry;
        off = 1;
      }
      data.get(pcm, off, data.remaining());
      int even = n & ~1;
      carry = even < n ? pcm[even] & 0xFF : -1;
      if (even > 0) {
        try {
          stream.acceptPcm16(pcm, 0, even, SAMPLE_RATE);
        } catch (VoiceException e) {
          LOG.warn("asr session {}: {}", stream.sessionId(), e.getMessage());
          end(POLICY, "recognition failed");
        }
      }
    }

    /** Finishes the stream (its last segment is sent and published), then closes. */
    synchronized void end(Integer code, String reason) {
      if (ended) {
        return;
      }
      ended = true;
      sessions.values().remove(this);
      if (stream == null) {
        return; // ended before it opened
      }
      try {
        stream.finish();
      } catch (RuntimeException e) {
        LOG.warn("asr session {}: finishing failed: {}", stream.sessionId(), e.getMessage());
      } finally {
        stream.close();
      }
      LOG.info(
          "asr session {} ended: {} segment(s) in {} s of audio",
          stream.sessionId(),
          stream.segmentCount(),
          String.format(Locale.ROOT, "%.1f", stream.secondsAccepted()));
      if (code != null && ws.isOpen()) {
        ws.close(code, reason, Callback.NOOP);
      }
    }

    @Override
    public void onPartial(Partial partial) {
      ObjectNode m = Json.object();
      m.put("type", "partial");
      m.put("text", partial.text());
      m.put("is_final", false);
      m.put("timestamp", Instant.now().toString());
      m.put("segment", partial.segmentIndex());
      send(Json.string(m), false);
    }

    @Override
    public void onSegment(Segment segment) {
      ObjectNode m = Json.object();
      m.put("type", "final");
      m.put("text", segment.text());
      m.put("is_final", true);
      m.put("timestamp", segment.endedAt().toString());
      m.put("segment", segment.index());
      m.put("start", millis(segment.startSeconds()));
      m.put("end", millis(segment.endSeconds()));
      m.put("event_id", transcriber.toEvent(segment).eventId().toString());
      send(Json.string(m), true);
    }

    private void send(String text, boolean mustSend) {
      if (!ws.isOpen()) {
        return;
      }
      int pending = unsent.get();
      if (!mustSend && pending >= SKIP_PARTIALS_AT) {
        return;
      }
      if (pending >= MAX_UNSENT) {
        ws.close(POLICY, "client too slow: " + MAX_UNSENT + " messages unread", Callback.NOOP);
        return;
      }
      unsent.incrementAndGet();
      ws.sendText(text, Callback.from(unsent::decrementAndGet, t -> unsent.decrementAndGet()));
    }
  }
}
