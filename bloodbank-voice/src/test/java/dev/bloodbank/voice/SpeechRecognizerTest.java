package dev.bloodbank.voice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole native streaming path (features, resampling, model, CTC decoding, endpoints) with the
 * synthetic model, which hears any loud stretch as the token "hi".
 */
class SpeechRecognizerTest {
  static final EndpointRules QUICK = EndpointRules.of(2.4, 0.8, 20);

  SpeechRecognizer recognizer;
  final List<Segment> segments = new CopyOnWriteArrayList<>();
  final List<Partial> partials = new CopyOnWriteArrayList<>();
  final TranscriptListener listener =
      new TranscriptListener() {
        @Override
        public void onPartial(Partial partial) {
          partials.add(partial);
        }

        @Override
        public void onSegment(Segment segment) {
          segments.add(segment);
        }
      };

  static AsrModel synthetic() {
    Path dir = VoiceModels.syntheticDir();
    return AsrModel.ctc(
            AsrModel.Kind.ZIPFORMER2_CTC, dir.resolve("model.onnx"), dir.resolve("tokens.txt"))
        .withName("bloodbank-synthetic");
  }

  @BeforeEach
  void open() {
    recognizer =
        SpeechRecognizer.create(
            RecognizerOptions.builder(synthetic()).endpoint(QUICK).language("en").build());
  }

  @AfterEach
  void close() {
    recognizer.close();
  }

  @ParameterizedTest
  @ValueSource(ints = {16_000, 8_000, 44_100, 48_000})
  void eachUtteranceBecomesASegmentAtItsEndpoint(int rate) {
    try (RecognitionStream stream = recognizer.newStream(listener)) {
      SyntheticAudio.feed(stream, SyntheticAudio.twoUtterances(rate), rate);
      stream.finish();

      assertThat(segments).extracting(Segment::text).containsExactly("hi", "hi");
      assertThat(segments).extracting(Segment::index).containsExactly(0, 1);
      assertThat(segments).allMatch(s -> s.sessionId().equals(stream.sessionId()));
      assertThat(segments).allMatch(s -> s.sampleRate() == rate);
      // sherpa-onnx renders a leading "▁" (U+2581) as a space.
      assertThat(segments.get(0).tokens()).containsExactly(" hi");
      // Token times have the model's 40 ms resolution; speech starts at 1.0 s and 3.1 s.
      assertThat(segments.get(0).startSeconds()).isCloseTo(1.0, within(0.15));
      assertThat(segments.get(1).startSeconds()).isCloseTo(3.1, within(0.15));
      // Endpoints come after 0.8 s of silence, in 320 ms decoding steps.
      assertThat(segments.get(0).endSeconds()).isBetween(2.3, 3.1);
      assertThat(segments.get(1).endSeconds()).isBetween(4.4, 5.2);
      assertThat(stream.secondsAccepted()).isGreaterThan(5.2);
      assertThat(partials).extracting(Partial::text).contains("hi");
    }
  }

  @Test
  void pcm16BytesGiveTheSameSegments() {
    byte[] pcm = SyntheticAudio.toPcm16(SyntheticAudio.twoUtterances(16_000));
    try (RecognitionStream stream = recognizer.newStream(listener)) {
      for (int at = 0; at < pcm.length; at += 3200) {
        stream.acceptPcm16(pcm, at, Math.min(3200, pcm.length - at), 16_000);
      }
      stream.finish();
    }
    assertThat(segments).extracting(Segment::text).containsExactly("hi", "hi");
  }

  @Test
  void finishReportsTheTextAfterTheLastEndpoint() {
    // Speech right up to the end: no endpoint, the text only comes out at finish().
    try (RecognitionStream stream = recognizer.newStream(listener)) {
      SyntheticAudio.feed(stream, SyntheticAudio.pattern(16_000, 0.5, 0.6), 16_000);
      assertThat(segments).isEmpty();
      stream.finish();
      stream.finish();
      assertThat(segments).extracting(Segment::text).containsExactly("hi");
      assertThatThrownBy(() -> stream.acceptFloat(new float[10], 0, 10, 16_000))
          .isInstanceOf(VoiceException.class)
          .extracting(e -> ((VoiceException) e).kind())
          .isEqualTo(VoiceException.Kind.CLOSED);
    }
  }

  @Test
  void withoutEndpointsTheWholeStreamIsOneSegment() {
    try (SpeechRecognizer r =
            SpeechRecognizer.create(
                RecognizerOptions.builder(synthetic()).endpoint(EndpointRules.disabled()).build());
        RecognitionStream stream = r.newStream(listener)) {
      SyntheticAudio.feed(stream, SyntheticAudio.twoUtterances(16_000), 16_000);
      stream.finish();
    }
    assertThat(segments).extracting(Segment::text).containsExactly("hi hi");
  }

  @Test
  void voiceActivityDetectionEndsSegmentsWhereSpeechStops() throws Exception {
    WavAudio speech = VoiceActivityDetectorTest.speech();
    List<double[]> truth = VoiceActivityDetectorTest.truth();
    RecognizerOptions noEndpoints =
        RecognizerOptions.builder(synthetic()).endpoint(EndpointRules.disabled()).build();
    try (SpeechRecognizer plain = SpeechRecognizer.create(noEndpoints);
        SpeechRecognizer withVad =
            SpeechRecognizer.create(
                noEndpoints
                    .mutate()
                    .vad(VadOptions.builder(VoiceModels.sileroVad()).build())
                    .build())) {
      List<Segment> without = new CopyOnWriteArrayList<>();
      try (RecognitionStream s = plain.newStream(without::add)) {
        s.acceptAll(speech);
      }
      try (RecognitionStream s = withVad.newStream(listener)) {
        s.acceptAll(speech);
      }
      assertThat(without).hasSize(1);
    }
    // One segment per stretch of speech, each ending shortly after its speech ends.
    assertThat(segments).hasSize(truth.size());
    for (int i = 0; i < truth.size(); i++) {
      assertThat(segments.get(i).text()).startsWith("hi");
      assertThat(segments.get(i).endSeconds()).isBetween(truth.get(i)[1], truth.get(i)[1] + 1.0);
    }
  }

  @Test
  void silenceGivesNoSegments() {
    try (RecognitionStream stream = recognizer.newStream(listener)) {
      SyntheticAudio.feed(stream, new float[16_000 * 6], 16_000);
      stream.finish();
    }
    assertThat(segments).isEmpty();
  }

  @Test
  void aStreamKeepsItsSampleRateAndChecksItsInput() {
    try (RecognitionStream stream = recognizer.newStream(listener)) {
      stream.acceptFloat(new float[4800], 0, 4800, 48_000);
      assertThatThrownBy(() -> stream.acceptFloat(new float[1600], 0, 1600, 16_000))
          .isInstanceOf(VoiceException.class)
          .hasMessageContaining("started at 48000 Hz and cannot change to 16000 Hz");
      assertThatThrownBy(() -> stream.acceptPcm16(new byte[3], 0, 3, 48_000))
          .hasMessageContaining("even number of bytes, got 3");
      assertThatThrownBy(() -> stream.acceptFloat(new float[10], 0, 10, 1_000))
          .hasMessageContaining("between 4000 and 192000 Hz, was 1000");
      assertThat(stream.sampleRate()).isEqualTo(48_000);
    }
  }

  @Test
  void eachStreamHasASessionAndAHandshake() throws Exception {
    try (RecognitionStream a = recognizer.newStream(listener);
        RecognitionStream b = recognizer.newStream(listener)) {
      assertThat(a.sessionId()).isNotEqualTo(b.sessionId());
      assertThat(a.sessionId().version()).isEqualTo(4);
      var json = new ObjectMapper().readTree(a.sessionInfo());
      assertThat(json.get("type").asText()).isEqualTo("session_info");
      assertThat(json.get("session_id").asText()).isEqualTo(a.sessionId().toString());
    }
  }

  @Test
  void streamsRunSideBySideOnOneRecognizer() throws Exception {
    List<Segment> a = new CopyOnWriteArrayList<>();
    List<Segment> b = new CopyOnWriteArrayList<>();
    float[] audio = SyntheticAudio.twoUtterances(16_000);
    Thread ta =
        new Thread(
            () -> {
              try (RecognitionStream s = recognizer.newStream(a::add)) {
                SyntheticAudio.feed(s, audio, 16_000);
                s.finish();
              }
            });
    Thread tb =
        new Thread(
            () -> {
              try (RecognitionStream s = recognizer.newStream(b::add)) {
                SyntheticAudio.feed(s, audio, 16_000);
                s.finish();
              }
            });
    ta.start();
    tb.start();
    ta.join(30_000);
    tb.join(30_000);
    assertThat(a).extracting(Segment::text).containsExactly("hi", "hi");
    assertThat(b).extracting(Segment::text).containsExactly("hi", "hi");
  }

  @Test
  void closingTheRecognizerClosesItsStreamsOnce() {
    RecognitionStream stream = recognizer.newStream(listener);
    recognizer.close();
    recognizer.close();
    stream.close();
    assertThatThrownBy(() -> stream.acceptFloat(new float[10], 0, 10, 16_000))
        .isInstanceOf(VoiceException.class)
        .hasMessageContaining("closed");
    assertThatThrownBy(() -> recognizer.newStream(listener))
        .isInstanceOf(VoiceException.class)
        .hasMessageContaining("speech recognizer is closed");
  }

  @Test
  void aListenerMayCloseItsStream() {
    RecognitionStream[] self = new RecognitionStream[1];
    self[0] =
        recognizer.newStream(
            segment -> {
              segments.add(segment);
              self[0].close();
            });
    assertThatThrownBy(
            () ->
                SyntheticAudio.feed(
                    self[0], SyntheticAudio.pattern(16_000, 1.0, 0.6, 1.5, 0.6, 1.5), 16_000))
        .isInstanceOf(VoiceException.class)
        .hasMessageContaining("is closed");
    assertThat(segments).hasSize(1);
    assertThatThrownBy(() -> self[0].acceptFloat(new float[10], 0, 10, 16_000))
        .isInstanceOf(VoiceException.class);
  }

  @Test
  void badModelFilesAreRefusedAndTheJvmLives(@TempDir Path dir) throws Exception {
    // Each of these ends the process if it reaches sherpa-onnx.
    Path model = dir.resolve("model.onnx");
    Path tokens = Files.copy(VoiceModels.syntheticDir().resolve("tokens.txt"), dir.resolve("t"));
    byte[] good = Files.readAllBytes(VoiceModels.syntheticDir().resolve("model.onnx"));

    Files.write(model, Arrays.copyOf(good, 1000));
    assertThatThrownBy(() -> create(AsrModel.Kind.ZIPFORMER2_CTC, model, tokens))
        .hasMessageContaining(model.toString())
        .hasMessageContaining("not a valid ONNX model");

    Files.write(model, good);
    assertThatThrownBy(() -> create(AsrModel.Kind.NEMO_CTC, model, tokens))
        .hasMessageContaining("'window_size' is missing");
    assertThatThrownBy(() -> create(AsrModel.Kind.TONE_CTC, model, tokens))
        .hasMessageContaining("'frame_length_ms' is missing");

    Files.writeString(tokens, "<blk> 0\n<sos/eos> 1\n<unk> 2\n");
    assertThatThrownBy(() -> create(AsrModel.Kind.ZIPFORMER2_CTC, model, tokens))
        .hasMessageContaining("has no token with id 3");

    Files.writeString(tokens, "<blk> 0 0\n");
    assertThatThrownBy(() -> create(AsrModel.Kind.ZIPFORMER2_CTC, model, tokens))
        .hasMessageContaining("line 1 has 3 fields");

    // And the JVM still decodes afterwards.
    eachUtteranceBecomesASegmentAtItsEndpoint(16_000);
  }

  private static void create(AsrModel.Kind kind, Path model, Path tokens) {
    SpeechRecognizer.create(RecognizerOptions.builder(AsrModel.ctc(kind, model, tokens)).build())
        .close();
  }
}
