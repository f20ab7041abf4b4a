package dev.bloodbank.benchmarks;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import dev.bloodbank.EventCodec;
import dev.bloodbank.voice.AsrModel;
import dev.bloodbank.voice.EndpointRules;
import dev.bloodbank.voice.Partial;
import dev.bloodbank.voice.RecognitionStream;
import dev.bloodbank.voice.RecognizerOptions;
import dev.bloodbank.voice.Segment;
import dev.bloodbank.voice.SpeechRecognizer;
import dev.bloodbank.voice.TranscriptListener;
import dev.bloodbank.voice.internal.SherpaOnnx;
import dev.bloodbank.voice.internal.SherpaOnnxStructs.OnlineRecognizerConfig;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * Measures what bloodbank-voice's {@link RecognitionStream} costs on top of sherpa-onnx, and
 * whether memory stays flat on a long stream. Runs without a pretrained model: it uses the
 * project's synthetic streaming zipformer2-CTC model, which hears loud stretches as "hi".
 *
 * <p><b>Overhead.</b> The same audio ({@link SyntheticSpeech}, 16 kHz, 100 ms chunks) goes through
 * the raw binding ({@link SherpaOnnx}) doing the least a caller must do per chunk (accept the
 * samples, decode while ready, read the text, check for an endpoint and reset there) and through
 * {@link RecognitionStream}, as float and as 16-bit PCM. Each variant has its own stream; they take
 * the audio in turns, 5 audio-seconds each, every other turn in reverse order, so load from other
 * processes lands on all alike. Thread CPU time is the measure (wall clock is shown too); warm-up
 * runs are excluded and the table shows medians. A raw variant with a timer around each native call
 * shows where the time goes.
 *
 * <p><b>Memory.</b> After a JVM warm-up on other streams, one stream takes an hour of audio as fast
 * as it can; every few audio-minutes the heap used after a full GC, the process RSS, glibc's bytes
 * in use and held, and the JVM's own malloc'd bytes (Native Memory Tracking) are sampled. Run it
 * with a fixed, pre-touched heap and NMT ({@code -Xms = -Xmx, -XX:+AlwaysPreTouch,
 * -XX:NativeMemoryTracking=summary}, as {@code exec:exec@voice} does), so that RSS growth is native
 * memory, not the heap being resized, and native memory can be split into the JVM's and the rest.
 *
 * <p>Options: {@code --runs N} (7), {@code --warmup N} runs (1), {@code --minutes M} of audio per
 * run (10), {@code --memory-minutes M} (60), {@code --sample-minutes M} (5), {@code --memory-warmup
 * M} audio-minutes (10), {@code --memory-budget S} wall seconds after which the memory run stops at
 * its next sample (600), {@code --memory-path sdk|raw} (sdk), {@code --only overhead|memory},
 * {@code --model-dir DIR} (system property {@value #MODEL_DIR_PROPERTY}, else {@value
 * #DEFAULT_MODEL_DIR}), {@code --smoke} (a few audio-seconds), {@code --json FILE} ({@code
 * target/voice-benchmark-results.json}).
 */
public final class VoiceBenchmark {
  static final String MODEL_DIR_PROPERTY = "bloodbank.bench.voiceModelDir";
  static final String DEFAULT_MODEL_DIR =
      "../bloodbank-voice/src/test/resources/dev/bloodbank/voice/synthetic";

  private static final int RATE = 16_000;
  private static final int CHUNK = RATE / 10;
  private static final int SLICE = 50; // chunks: 5 audio-seconds
  private static final double OVERHEAD_TARGET = 0.05;
  private static final double FLAT_TARGET_MB_PER_HOUR = 2.0;

  // The SDK's test settings: endpoints after 0.8 s of silence, so segments end often.
  private static final float RULE1 = 2.4f;
  private static final float RULE2 = 0.8f;
  private static final float RULE3 = 20f;

  private int runs = 7;
  private int warmup = 1;
  private double minutes = 10;
  private double memoryMinutes = 60;
  private double sampleMinutes = 5;
  private double memoryBudgetSeconds = 600;
  private double memoryWarmupMinutes = 10;
  private boolean memoryRaw;
  private String only = "";
  private Path modelDir =
      Path.of(System.getProperty(MODEL_DIR_PROPERTY, DEFAULT_MODEL_DIR))
          .toAbsolutePath()
          .normalize();
  private Path json = Path.of("target", "voice-benchmark-results.json");

  private SherpaOnnx sherpa;
  private Pointer rawRecognizer;
  private SpeechRecognizer recognizer;
  private long sink;

  private enum Raw {
    FLOAT,
    PCM16,
    TIMED,
    FULL_RESULT
  }

  // Per-call timers of the TIMED raw run, indexed by these constants.
  private static final String[] CALLS = {
    "accept waveform", "is ready", "decode", "get result + read text + free", "is endpoint", "reset"
  };
  private static final int ACCEPT = 0;
  private static final int READY = 1;
  private static final int DECODE = 2;
  private static final int RESULT = 3;
  private static final int ENDPOINT = 4;
  private static final int RESET = 5;
  private final long[] callNanos = new long[CALLS.length];
  private final long[] callCounts = new long[CALLS.length];

  public static void main(String[] args) throws Exception {
    VoiceBenchmark b = new VoiceBenchmark();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--runs" -> b.runs = Integer.parseInt(args[++i]);
        case "--warmup" -> b.warmup = Integer.parseInt(args[++i]);
        case "--minutes" -> b.minutes = Double.parseDouble(args[++i]);
        case "--memory-minutes" -> b.memoryMinutes = Double.parseDouble(args[++i]);
        case "--sample-minutes" -> b.sampleMinutes = Double.parseDouble(args[++i]);
        case "--memory-budget" -> b.memoryBudgetSeconds = Double.parseDouble(args[++i]);
        case "--memory-warmup" -> b.memoryWarmupMinutes = Double.parseDouble(args[++i]);
        case "--memory-path" -> b.memoryRaw = args[++i].equals("raw");
        case "--only" -> b.only = args[++i];
        case "--model-dir" -> b.modelDir = Path.of(args[++i]).toAbsolutePath().normalize();
        case "--json" -> b.json = Path.of(args[++i]);
        case "--smoke" -> {
          b.runs = 1;
          b.warmup = 1;
          b.minutes = 5 / 60.0;
          b.memoryMinutes = 20 / 60.0;
          b.sampleMinutes = 5 / 60.0;
          b.memoryWarmupMinutes = 5 / 60.0;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (b.runs < 1 || b.minutes <= 0 || b.memoryMinutes <= 0 || b.sampleMinutes <= 0) {
      throw new IllegalArgumentException(
          "runs must be >= 1 and minutes > 0, were runs="
              + b.runs
              + " minutes="
              + b.minutes
              + " memory-minutes="
              + b.memoryMinutes
              + " sample-minutes="
              + b.sampleMinutes);
    }
    b.run();
  }

  private void run() throws IOException {
    Path model = modelDir.resolve("model.onnx");
    Path tokens = modelDir.resolve("tokens.txt");
    recognizer =
        SpeechRecognizer.create(
            RecognizerOptions.builder(
                    AsrModel.ctc(AsrModel.Kind.ZIPFORMER2_CTC, model, tokens)
                        .withName("bloodbank-synthetic"))
                .endpoint(EndpointRules.of(RULE1, RULE2, RULE3))
                .build());
    sherpa = SherpaOnnx.get();
    rawRecognizer = sherpa.createOnlineRecognizer(rawConfig(model, tokens));
    Map<String, Object> out = new LinkedHashMap<>();
    StringBuilder t = new StringBuilder();
    try {
      header(t, out);
      // Memory first: the overhead runs hold ~60 MB of audio, which would blur the heap series.
      if (!only.equals("overhead")) {
        memory(t, out);
      }
      if (!only.equals("memory")) {
        overhead(t, out);
      }
    } finally {
      sherpa.destroyOnlineRecognizer(rawRecognizer);
      recognizer.close();
    }
    System.out.print(t);
    Files.createDirectories(json.toAbsolutePath().getParent());
    Files.writeString(
        json,
        EventCodec.defaultObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(out));
    System.out.println("JSON: " + json.toAbsolutePath());
  }

  /** What {@code SpeechRecognizer} sends sherpa-onnx for these options, field by field. */
  private static OnlineRecognizerConfig rawConfig(Path model, Path tokens) {
    OnlineRecognizerConfig c = new OnlineRecognizerConfig();
    c.feat_config.sample_rate = RecognizerOptions.DEFAULT_FEATURE_SAMPLE_RATE;
    c.feat_config.feature_dim = RecognizerOptions.DEFAULT_FEATURE_DIM;
    c.model_config.tokens = tokens.toString();
    c.model_config.zipformer2_ctc.model = model.toString();
    c.model_config.num_threads = RecognizerOptions.DEFAULT_NUM_THREADS;
    c.model_config.provider = "cpu";
    c.decoding_method = "greedy_search";
    c.max_active_paths = RecognizerOptions.DEFAULT_MAX_ACTIVE_PATHS;
    c.enable_endpoint = 1;
    c.rule1_min_trailing_silence = RULE1;
    c.rule2_min_trailing_silence = RULE2;
    c.rule3_min_utterance_length = RULE3;
    return c;
  }

  private void header(StringBuilder t, Map<String, Object> out) {
    String cpu = cpuModel();
    int cores = Runtime.getRuntime().availableProcessors();
    String os = System.getProperty("os.name") + " " + System.getProperty("os.version");
    String java = System.getProperty("java.vm.name") + " " + System.getProperty("java.version");
    t.append(
        String.format(
            "Bloodbank voice: RecognitionStream vs the raw sherpa-onnx binding, %s%n",
            LocalDate.now()));
    t.append(
        String.format(
            "sherpa-onnx %s (git %s, onnxruntime %s); %s, %d cores; %s; %s%n",
            SpeechRecognizer.nativeVersion(),
            sherpa.getGitSha1(),
            sherpa.getOnnxruntimeVersionStr(),
            cpu,
            cores,
            os,
            java));
    t.append(
        String.format(
            "model: synthetic streaming zipformer2-CTC (%s), 1 thread, greedy search, endpoint"
                + " rules %.1f/%.1f/%.0f s%n%n",
            modelDir, RULE1, RULE2, RULE3));
    out.put("date", LocalDate.now().toString());
    out.put("sherpa_onnx", SpeechRecognizer.nativeVersion());
    out.put("sherpa_onnx_git", sherpa.getGitSha1());
    out.put("onnxruntime", sherpa.getOnnxruntimeVersionStr());
    out.put("cpu", cpu);
    out.put("cores", cores);
    out.put("os", os);
    out.put("java", java);
    out.put("model_dir", modelDir.toString());
    out.put("max_heap_mb", Runtime.getRuntime().maxMemory() / 1048576);
  }

  // ---- overhead --------------------------------------------------------------------------

  /** One way of feeding the audio: its own stream, fed slice by slice, with its own clocks. */
  private abstract static class Feeder implements AutoCloseable {
    final String name;
    int segments;
    long cpuNanos;
    long wallNanos;

    Feeder(String name) {
      this.name = name;
    }

    abstract void feed(int from, int to);

    @Override
    public abstract void close();
  }

  private List<Feeder> feeders(float[][] chunks, byte[][] pcm) {
    return List.of(
        rawFeeder("raw float", Raw.FLOAT, chunks, pcm),
        sdkFeeder("sdk float", false, chunks, pcm),
        rawFeeder("raw pcm16", Raw.PCM16, chunks, pcm),
        sdkFeeder("sdk pcm16", true, chunks, pcm),
        rawFeeder("raw float timed", Raw.TIMED, chunks, pcm),
        rawFeeder("raw full result", Raw.FULL_RESULT, chunks, pcm));
  }

  private Feeder rawFeeder(String name, Raw mode, float[][] chunks, byte[][] pcm) {
    Pointer stream = sherpa.createOnlineStream(rawRecognizer);
    float[] buf = new float[CHUNK];
    return new Feeder(name) {
      @Override
      void feed(int from, int to) {
        for (int c = from; c < to; c++) {
          float[] samples = chunks[c];
          if (mode == Raw.PCM16) {
            // The C API takes floats; a caller with 16-bit PCM converts, as the SDK does.
            byte[] b = pcm[c];
            for (int i = 0; i < CHUNK; i++) {
              buf[i] = (short) ((b[2 * i] & 0xff) | (b[2 * i + 1] << 8)) / 32768f;
            }
            samples = buf;
          }
          if (rawChunk(mode, stream, samples)) {
            segments++;
          }
        }
      }

      @Override
      public void close() {
        sherpa.destroyOnlineStream(stream);
      }
    };
  }

  private Feeder sdkFeeder(String name, boolean pcm16, float[][] chunks, byte[][] pcm) {
    Feeder[] self = new Feeder[1];
    RecognitionStream stream =
        recognizer.newStream(
            new TranscriptListener() {
              @Override
              public void onPartial(Partial partial) {
                sink += partial.text().length();
              }

              @Override
              public void onSegment(Segment segment) {
                self[0].segments++;
              }
            });
    self[0] =
        new Feeder(name) {
          @Override
          void feed(int from, int to) {
            for (int c = from; c < to; c++) {
              if (pcm16) {
                stream.acceptPcm16(pcm[c], 0, pcm[c].length, RATE);
              } else {
                stream.acceptFloat(chunks[c], 0, CHUNK, RATE);
              }
            }
          }

          @Override
          public void close() {
            stream.close();
          }
        };
    return self[0];
  }

  private void overhead(StringBuilder t, Map<String, Object> out) {
    int n = (int) Math.max(1, Math.round(minutes * 60 * 10));
    double audioSeconds = n * (double) CHUNK / RATE;
    float[][] chunks = new float[n][CHUNK];
    byte[][] pcm = new byte[n][];
    SyntheticSpeech speech = new SyntheticSpeech(RATE, 6);
    for (int i = 0; i < n; i++) {
      speech.fill(chunks[i], CHUNK);
      pcm[i] = SyntheticSpeech.toPcm16(chunks[i], CHUNK);
    }
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    Map<String, List<Double>> cpu = new LinkedHashMap<>();
    Map<String, List<Double>> wall = new LinkedHashMap<>();
    Map<String, List<Integer>> segments = new LinkedHashMap<>();
    long timedWall = 0;
    for (int run = -warmup; run < runs; run++) {
      if (run == 0) {
        Arrays.fill(callNanos, 0);
        Arrays.fill(callCounts, 0);
      }
      List<Feeder> fs = feeders(chunks, pcm);
      try {
        // Each variant has its own stream and takes the audio in 5-second slices, in turns,
        // every other slice back to front: on a shared machine, load that comes and goes then
        // lands on all variants alike.
        int slice = 0;
        for (int from = 0; from < n; from += SLICE, slice++) {
          int to = Math.min(n, from + SLICE);
          for (int k = 0; k < fs.size(); k++) {
            Feeder f = fs.get(slice % 2 == 0 ? k : fs.size() - 1 - k);
            long c0 = threads.getCurrentThreadCpuTime();
            long w0 = System.nanoTime();
            f.feed(from, to);
            f.wallNanos += System.nanoTime() - w0;
            f.cpuNanos += threads.getCurrentThreadCpuTime() - c0;
          }
        }
      } finally {
        fs.forEach(Feeder::close);
      }
      if (run >= 0) {
        for (Feeder f : fs) {
          cpu.computeIfAbsent(f.name, x -> new ArrayList<>()).add(f.cpuNanos / 1e3 / audioSeconds);
          wall.computeIfAbsent(f.name, x -> new ArrayList<>())
              .add(f.wallNanos / 1e3 / audioSeconds);
          segments.computeIfAbsent(f.name, x -> new ArrayList<>()).add(f.segments);
          if (f.name.equals("raw float timed")) {
            timedWall += f.wallNanos;
          }
        }
      }
    }
    double rawF = median(cpu.get("raw float"));
    double sdkF = median(cpu.get("sdk float"));
    double rawP = median(cpu.get("raw pcm16"));
    double sdkP = median(cpu.get("sdk pcm16"));
    double full = median(cpu.get("raw full result"));
    double ovF = (sdkF - rawF) / rawF;
    double ovP = (sdkP - rawP) / rawP;
    double wallOvF =
        (median(wall.get("sdk float")) - median(wall.get("raw float")))
            / median(wall.get("raw float"));
    double wallOvP =
        (median(wall.get("sdk pcm16")) - median(wall.get("raw pcm16")))
            / median(wall.get("raw pcm16"));
    double pairedF = pairedOverhead(cpu.get("raw float"), cpu.get("sdk float"));
    double pairedP = pairedOverhead(cpu.get("raw pcm16"), cpu.get("sdk pcm16"));
    int rawSegs = segments.get("raw float").get(0);
    int sdkSegs = segments.get("sdk float").get(0);
    boolean sameWork =
        segments.values().stream().allMatch(l -> l.stream().allMatch(s -> s == rawSegs));

    t.append(
        String.format(
            "Overhead: %.1f audio-minutes per run (16 kHz, 100 ms chunks), medians of %d run(s)"
                + " after %d warm-up; variants interleaved in 5 s slices; thread CPU time%n",
            audioSeconds / 60, runs, warmup));
    t.append("| measure | raw binding | RecognitionStream | overhead | target | met |\n");
    t.append("|---|---|---|---|---|---|\n");
    t.append(
        String.format(
            "| float chunks, CPU µs per audio-second | %.1f | %.1f | %+.1f%% | ≤ 5%% | %s |%n",
            rawF, sdkF, 100 * ovF, ovF <= OVERHEAD_TARGET ? "yes" : "NO"));
    t.append(
        String.format(
            "| 16-bit PCM chunks, CPU µs per audio-second | %.1f | %.1f | %+.1f%% | ≤ 5%% | %s"
                + " |%n",
            rawP, sdkP, 100 * ovP, ovP <= OVERHEAD_TARGET ? "yes" : "NO"));
    t.append(
        String.format(
            "| overhead, median of per-run ratios, float / PCM | | | %+.1f%% / %+.1f%% | | |%n",
            100 * pairedF, 100 * pairedP));
    t.append(
        String.format(
            "| overhead by wall clock, float / PCM | | | %+.1f%% / %+.1f%% | | |%n",
            100 * wallOvF, 100 * wallOvP));
    t.append(
        String.format(
            "| SDK extra CPU per 100 ms chunk (µs), float / PCM | | %.2f / %.2f | | | |%n",
            (sdkF - rawF) / 10, (sdkP - rawP) / 10));
    t.append(
        String.format(
            "| real-time factor (CPU), float | %.5f | %.5f | | | |%n", rawF / 1e6, sdkF / 1e6));
    t.append(
        String.format(
            "| segments per run | %d | %d | | equal | %s |%n",
            rawSegs, sdkSegs, sameWork ? "yes" : "NO"));

    // Where the raw loop's time goes, from the per-call timers of the timed variant (wall clock).
    double timedUs = timedWall / 1e3;
    double perSecond = audioSeconds * runs;
    t.append(
        String.format(
            "%nRaw loop by native call (wall-clock timers around each call, %d run(s); the"
                + " timers add ~%.1f µs per audio-second)%n",
            runs, timerCost() * 7 * 10 / 1e3));
    t.append(
        "| call | µs per audio-second | share of raw loop | calls per chunk | µs per call |\n");
    t.append("|---|---|---|---|---|\n");
    Map<String, Object> calltable = new LinkedHashMap<>();
    double inNative = 0;
    for (int i = 0; i < CALLS.length; i++) {
      double us = callNanos[i] / 1e3;
      double perCall = callCounts[i] == 0 ? 0 : us / callCounts[i];
      inNative += us;
      t.append(
          String.format(
              "| %s | %.1f | %.1f%% | %.2f | %.2f |%n",
              CALLS[i],
              us / perSecond,
              100 * us / timedUs,
              callCounts[i] / (perSecond * 10),
              perCall));
      calltable.put(
          CALLS[i],
          Map.of(
              "us_per_audio_second", us / perSecond,
              "share", us / timedUs,
              "us_per_call", perCall));
    }
    double outside = timedUs - inNative;
    t.append(
        String.format(
            "| outside native calls (Java loop, timers) | %.1f | %.1f%% | | |%n",
            outside / perSecond, 100 * outside / timedUs));
    t.append(String.format("| total | %.1f | 100%% | | |%n", timedUs / perSecond));
    t.append(
        String.format(
            "%nThe same raw loop with SherpaOnnx.onlineStreamResult (copies text, tokens and"
                + " times, as RecognitionStream does) instead of reading the text only: %.1f CPU"
                + " µs per audio-second, %+.1f%% vs raw.%n%n",
            full, 100 * (full - rawF) / rawF));

    Map<String, Object> o = new LinkedHashMap<>();
    o.put("audio_seconds_per_run", audioSeconds);
    o.put("runs", runs);
    o.put("warmup_runs", warmup);
    o.put("slice_chunks", SLICE);
    o.put("cpu_us_per_audio_second", cpu);
    o.put("wall_us_per_audio_second", wall);
    o.put("segments_per_run", segments);
    o.put("overhead_float", ovF);
    o.put("overhead_pcm16", ovP);
    o.put("overhead_float_paired", pairedF);
    o.put("overhead_pcm16_paired", pairedP);
    o.put("overhead_float_wall", wallOvF);
    o.put("overhead_pcm16_wall", wallOvP);
    o.put("overhead_target", OVERHEAD_TARGET);
    o.put("overhead_met", ovF <= OVERHEAD_TARGET && ovP <= OVERHEAD_TARGET);
    o.put("raw_loop_by_call", calltable);
    o.put("raw_loop_outside_native_share", outside / timedUs);
    o.put("raw_full_result_cpu_us_per_audio_second", full);
    out.put("overhead", o);
    out.put("sink", sink);
  }

  private static double pairedOverhead(List<Double> raw, List<Double> sdk) {
    List<Double> r = new ArrayList<>();
    for (int i = 0; i < raw.size(); i++) {
      r.add(sdk.get(i) / raw.get(i) - 1);
    }
    return median(r);
  }

  /**
   * The raw binding, doing for one chunk what any caller must: accept, decode while ready, read the
   * text, check for an endpoint, reset there.
   *
   * @return whether a segment with text ended
   */
  private boolean rawChunk(Raw mode, Pointer s, float[] samples) {
    Pointer r = rawRecognizer;
    boolean timed = mode == Raw.TIMED;
    long t0 = timed ? System.nanoTime() : 0;
    sherpa.onlineStreamAcceptWaveform(s, RATE, samples, CHUNK);
    if (timed) {
      t0 = lap(ACCEPT, t0);
    }
    while (true) {
      boolean ready = sherpa.isOnlineStreamReady(r, s);
      if (timed) {
        t0 = lap(READY, t0);
      }
      if (!ready) {
        break;
      }
      sherpa.decodeOnlineStream(r, s);
      if (timed) {
        t0 = lap(DECODE, t0);
      }
    }
    String text = mode == Raw.FULL_RESULT ? sherpa.onlineStreamResult(r, s).text() : text(r, s);
    if (timed) {
      t0 = lap(RESULT, t0);
    }
    boolean endpoint = sherpa.onlineStreamIsEndpoint(r, s);
    if (timed) {
      t0 = lap(ENDPOINT, t0);
    }
    sink += text.length();
    if (!endpoint) {
      return false;
    }
    sherpa.onlineStreamReset(r, s);
    if (timed) {
      lap(RESET, t0);
    }
    return !text.isBlank();
  }

  private long lap(int call, long since) {
    long now = System.nanoTime();
    callNanos[call] += now - since;
    callCounts[call]++;
    return now;
  }

  /** The text only: the first field of {@code SherpaOnnxOnlineRecognizerResult}. */
  private String text(Pointer r, Pointer s) {
    Pointer result = sherpa.getOnlineStreamResult(r, s);
    try {
      Pointer text = result.getPointer(0);
      return text == null ? "" : text.getString(0, StandardCharsets.UTF_8.name());
    } finally {
      sherpa.destroyOnlineRecognizerResult(result);
    }
  }

  private static double timerCost() {
    long x = 0;
    long start = System.nanoTime();
    for (int i = 0; i < 100_000; i++) {
      x += System.nanoTime();
    }
    return (System.nanoTime() - start + (x & 1)) / 100_000.0;
  }

  // ---- memory ----------------------------------------------------------------------------

  /** One memory sample, taken after a full GC. */
  private record Sample(
      double audioMinutes,
      double wallSeconds,
      int segments,
      double heapMb,
      double rssMb,
      double mallocInUseMb,
      double mallocHeldMb,
      double jvmMallocMb,
      double jvmNonHeapMb) {

    /** What malloc holds for everything but the JVM itself: sherpa-onnx, onnxruntime, JNA. */
    double nativeLibrariesMb() {
      return mallocInUseMb - jvmMallocMb;
    }

    Map<String, Object> toJson() {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("audio_minutes", audioMinutes);
      r.put("wall_seconds", wallSeconds);
      r.put("segments", segments);
      r.put("heap_after_gc_mb", heapMb);
      r.put("rss_mb", rssMb);
      r.put("malloc_in_use_mb", mallocInUseMb);
      r.put("malloc_held_mb", mallocHeldMb);
      r.put("jvm_malloc_nmt_mb", jvmMallocMb);
      r.put("native_libraries_malloc_mb", nativeLibrariesMb());
      r.put("jvm_non_heap_committed_mb", jvmNonHeapMb);
      return r;
    }
  }

  private void memory(StringBuilder t, Map<String, Object> out) {
    long total = Math.max(1, Math.round(memoryMinutes * 600));
    long every = Math.max(1, Math.round(sampleMinutes * 600));
    float[] buf = new float[CHUNK];
    // An hour of audio takes seconds here, so the JVM's own warm-up (JIT compiler arenas, which
    // glibc keeps after they are freed) would land inside the "hour". Warm up on another stream.
    long warm = Math.round(memoryWarmupMinutes * 600);
    if (warm > 0) {
      SyntheticSpeech speech = new SyntheticSpeech(RATE, 7);
      try (RecognitionStream s = recognizer.newStream(segment -> {})) {
        for (long c = 0; c < warm; c++) {
          speech.fill(buf, CHUNK);
          s.acceptFloat(buf, 0, CHUNK, RATE);
        }
      }
      Pointer s = sherpa.createOnlineStream(rawRecognizer);
      try {
        for (long c = 0; c < warm; c++) {
          speech.fill(buf, CHUNK);
          rawChunk(Raw.FLOAT, s, buf);
        }
      } finally {
        sherpa.destroyOnlineStream(s);
      }
    }
    List<Sample> series = new ArrayList<>();
    int[] segments = new int[1];
    SyntheticSpeech speech = new SyntheticSpeech(RATE, 60);
    RecognitionStream stream = memoryRaw ? null : recognizer.newStream(segment -> segments[0]++);
    Pointer rawStream = memoryRaw ? sherpa.createOnlineStream(rawRecognizer) : null;
    long busy = 0;
    long chunks = 0;
    boolean overBudget = false;
    try {
      series.add(sample(0, 0, 0));
      while (chunks < total && !overBudget) {
        long start = System.nanoTime();
        long until = Math.min(total, chunks + every);
        for (; chunks < until; chunks++) {
          speech.fill(buf, CHUNK);
          if (stream != null) {
            stream.acceptFloat(buf, 0, CHUNK, RATE);
          } else if (rawChunk(Raw.FLOAT, rawStream, buf)) {
            segments[0]++;
          }
        }
        busy += System.nanoTime() - start;
        series.add(sample(chunks / 600.0, busy / 1e9, segments[0]));
        overBudget = busy / 1e9 > memoryBudgetSeconds;
      }
      if (stream != null) {
        stream.finish();
      }
    } finally {
      if (stream != null) {
        stream.close();
      }
      if (rawStream != null) {
        sherpa.destroyOnlineStream(rawStream);
      }
    }
    double audioMinutes = chunks / 600.0;
    boolean stopped = overBudget && chunks < total;
    t.append(
        String.format(
            "Memory: %.1f audio-minutes through one %s in %.1f s (%.0fx real time), sampled every"
                + " %.1f audio-minutes after a full GC; JVM warmed up on %.1f audio-minutes"
                + " first%s%n",
            audioMinutes,
            memoryRaw ? "raw sherpa-onnx stream" : "RecognitionStream",
            busy / 1e9,
            audioMinutes * 60 / (busy / 1e9),
            sampleMinutes,
            memoryWarmupMinutes,
            stopped
                ? String.format(
                    " (STOPPED by the %.0f s budget; %.1f minutes were asked for)",
                    memoryBudgetSeconds, memoryMinutes)
                : ""));
    t.append(
        "| audio min | wall s | segments | heap after GC (MB) | RSS (MB) | malloc in use (MB) |"
            + " of which JVM (NMT) | of which native libraries | malloc held (MB) | JVM non-heap"
            + " committed (MB) |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (Sample p : series) {
      t.append(
          String.format(
              "| %.2f | %.1f | %d | %.2f | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f |%n",
              p.audioMinutes(),
              p.wallSeconds(),
              p.segments(),
              p.heapMb(),
              p.rssMb(),
              p.mallocInUseMb(),
              p.jvmMallocMb(),
              p.nativeLibrariesMb(),
              p.mallocHeldMb(),
              p.jvmNonHeapMb()));
    }
    // The first sample is before any audio of this stream; growth is measured from the first one
    // after audio, once onnxruntime and the feature buffers have reached their working size.
    List<Sample> steady = series.size() > 2 ? series.subList(1, series.size()) : series;
    Sample first = steady.get(0);
    Sample last = steady.get(steady.size() - 1);
    double heapSlope = slopePerHour(steady, Sample::heapMb);
    double rssSlope = slopePerHour(steady, Sample::rssMb);
    double libSlope = slopePerHour(steady, Sample::nativeLibrariesMb);
    // Flat means not growing: memory handed back (a JIT arena freed, malloc trimming) is no leak.
    // The native libraries' share needs NMT; without it only heap and RSS count.
    boolean flat =
        heapSlope <= FLAT_TARGET_MB_PER_HOUR
            && rssSlope <= FLAT_TARGET_MB_PER_HOUR
            && !(libSlope > FLAT_TARGET_MB_PER_HOUR);
    t.append(
        String.format(
            "%nGrowth from %.1f to %.1f audio-minutes (least-squares slope over those samples)%n",
            first.audioMinutes(), last.audioMinutes()));
    t.append("| measure | first | last | growth | slope per audio-hour | target | met |\n");
    t.append("|---|---|---|---|---|---|---|\n");
    growthRow(t, "heap after GC (MB)", steady, Sample::heapMb, true);
    growthRow(t, "RSS (MB)", steady, Sample::rssMb, true);
    growthRow(t, "malloc in use by native libraries (MB)", steady, Sample::nativeLibrariesMb, true);
    growthRow(t, "malloc in use by the JVM, NMT (MB)", steady, Sample::jvmMallocMb, false);
    growthRow(t, "malloc held from the system (MB)", steady, Sample::mallocHeldMb, false);
    growthRow(t, "JVM non-heap committed (MB)", steady, Sample::jvmNonHeapMb, false);
    t.append(
        String.format(
            "Memory flat (no slope above +%.0f MB per audio-hour): %s%n%n",
            FLAT_TARGET_MB_PER_HOUR, flat ? "yes" : "NO"));

    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", memoryRaw ? "raw" : "sdk");
    m.put("audio_minutes", audioMinutes);
    m.put("audio_minutes_asked", memoryMinutes);
    m.put("warmup_audio_minutes", memoryWarmupMinutes);
    m.put("stopped_by_budget", stopped);
    m.put("wall_seconds", busy / 1e9);
    m.put("samples", series.stream().map(Sample::toJson).toList());
    m.put("heap_slope_mb_per_audio_hour", heapSlope);
    m.put("rss_slope_mb_per_audio_hour", rssSlope);
    m.put("native_libraries_malloc_slope_mb_per_audio_hour", libSlope);
    m.put("flat_target_mb_per_audio_hour", FLAT_TARGET_MB_PER_HOUR);
    m.put("flat", flat);
    out.put("memory", m);
  }

  private static void growthRow(
      StringBuilder t,
      String what,
      List<Sample> steady,
      ToDoubleFunction<Sample> value,
      boolean target) {
    double first = value.applyAsDouble(steady.get(0));
    double last = value.applyAsDouble(steady.get(steady.size() - 1));
    double slope = slopePerHour(steady, value);
    t.append(
        String.format(
            "| %s | %.2f | %.2f | %+.2f | %+.2f | %s | %s |%n",
            what,
            first,
            last,
            last - first,
            slope,
            target ? "slope ≤ +" + FLAT_TARGET_MB_PER_HOUR : "(diagnostic)",
            !target || Double.isNaN(slope) ? "" : slope <= FLAT_TARGET_MB_PER_HOUR ? "yes" : "NO"));
  }

  /** Least-squares slope of {@code value} against audio minutes, in units per audio-hour. */
  private static double slopePerHour(List<Sample> points, ToDoubleFunction<Sample> value) {
    int n = points.size();
    if (n < 2) {
      return 0;
    }
    double mx = 0;
    double my = 0;
    for (Sample p : points) {
      mx += p.audioMinutes() / n;
      my += value.applyAsDouble(p) / n;
    }
    double sxy = 0;
    double sxx = 0;
    for (Sample p : points) {
      sxy += (p.audioMinutes() - mx) * (value.applyAsDouble(p) - my);
      sxx += (p.audioMinutes() - mx) * (p.audioMinutes() - mx);
    }
    return sxx == 0 ? 0 : 60 * sxy / sxx;
  }

  private static Sample sample(double audioMinutes, double wallSeconds, int segments) {
    System.gc();
    System.gc();
    double heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576.0;
    double nonHeap =
        ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage().getCommitted() / 1048576.0;
    double[] malloc = MallInfo.mb();
    return new Sample(
        audioMinutes,
        wallSeconds,
        segments,
        heap,
        rssMb(),
        malloc[0],
        malloc[1],
        jvmMallocMb(),
        nonHeap);
  }

  /**
   * The JVM's own malloc'd bytes from Native Memory Tracking ({@code
   * -XX:NativeMemoryTracking=summary}, as {@code exec:exec@voice} runs it); NaN without it.
   */
  private static double jvmMallocMb() {
    try {
      String summary =
          (String)
              ManagementFactory.getPlatformMBeanServer()
                  .invoke(
                      new ObjectName("com.sun.management:type=DiagnosticCommand"),
                      "vmNativeMemory",
                      new Object[] {new String[] {"summary"}},
                      new String[] {String[].class.getName()});
      Matcher m = NMT_MALLOC.matcher(summary);
      return m.find() ? Long.parseLong(m.group(1)) / 1024.0 : Double.NaN;
    } catch (JMException | RuntimeException e) {
      return Double.NaN;
    }
  }

  private static final Pattern NMT_MALLOC = Pattern.compile("Total:[^\\n]*\\n\\s*malloc: (\\d+)KB");

  private static double rssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // Not Linux: no RSS column.
    }
    return Double.NaN;
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).strip();
        }
      }
    } catch (IOException e) {
      // Not Linux.
    }
    return System.getProperty("os.arch");
  }

  private static double median(List<Double> v) {
    double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  }

  /**
   * glibc's {@code mallinfo2()}, over all arenas (onnxruntime, sherpa-onnx and the JVM's own native
   * allocations): the bytes handed out and not yet freed, which unlike RSS do not stay up when
   * freed pages stay mapped; and the bytes malloc holds from the system. NaN without glibc 2.33+.
   */
  public static final class MallInfo extends Structure implements Structure.ByValue {
    public long arena;
    public long ordblks;
    public long smblks;
    public long hblks;
    public long hblkhd;
    public long usmblks;
    public long fsmblks;
    public long uordblks;
    public long fordblks;
    public long keepcost;

    @Override
    protected List<String> getFieldOrder() {
      return List.of(
          "arena",
          "ordblks",
          "smblks",
          "hblks",
          "hblkhd",
          "usmblks",
          "fsmblks",
          "uordblks",
          "fordblks",
          "keepcost");
    }

    /** Bytes in use, and bytes malloc holds from the system (in use or free), in MB. */
    static double[] mb() {
      try {
        Function f = NativeLibrary.getInstance("c").getFunction("mallinfo2");
        MallInfo m = (MallInfo) f.invoke(MallInfo.class, new Object[0]);
        // Blocks from the arenas plus blocks that got their own mmap.
        return new double[] {(m.uordblks + m.hblkhd) / 1048576.0, (m.arena + m.hblkhd) / 1048576.0};
      } catch (UnsatisfiedLinkError e) {
        return new double[] {Double.NaN, Double.NaN};
      }
    }
  }
}
