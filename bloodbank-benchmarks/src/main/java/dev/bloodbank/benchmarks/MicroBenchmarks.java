package dev.bloodbank.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.EventIds;
import dev.bloodbank.Source;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.schemas.voice.TranscriptionCompleted;
import dev.bloodbank.validation.EventValidator;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.wal.FsyncPolicy;
import dev.bloodbank.wal.WalOptions;
import dev.bloodbank.wal.WriteAheadLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/** JMH: envelope encode/decode, validation of a 1 KB payload, UUIDv5, WAL append. */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class MicroBenchmarks {

  /** Shared codec, validator and a 1 KB event. */
  @State(Scope.Benchmark)
  public static class Events {
    final EventCodec codec = EventCodec.create();
    final EventValidator validator =
        EventValidator.create(EventRegistry.fromClasspath(), codec.objectMapper());
    final EventEnvelope<TranscriptionCompleted> envelope = Payloads.envelope(1);
    final TranscriptionCompleted payload = Payloads.transcription(0);
    final List<UUID> parents = List.of(UUID.randomUUID());
    byte[] bytes;
    EventEnvelope<JsonNode> decoded;

    @Setup
    public void setUp() {
      bytes = codec.encode(envelope);
      decoded = codec.decode(bytes);
      validator.validate(envelope, ValidationMode.STRICT);
    }
  }

  @Benchmark
  public byte[] encode(Events e) {
    return e.codec.encode(e.envelope);
  }

  @Benchmark
  public EventEnvelope<TranscriptionCompleted> decodeTyped(Events e) {
    return e.codec.decode(e.bytes, TranscriptionCompleted.class);
  }

  @Benchmark
  public void validateTypedPayload(Events e) {
    e.validator.validate(e.envelope, ValidationMode.STRICT);
  }

  @Benchmark
  public void validateJsonPayload(Events e) {
    e.validator.validate(e.decoded, ValidationMode.STRICT);
  }

  /**
   * What a publisher does per event on the caller's thread with strict validation: build the
   * envelope, convert the payload to a tree, validate it, encode it (as {@code Bloodbank}'s
   * outbound checks and {@code AmqpPublisher} do).
   */
  @Benchmark
  public byte[] publishPath(Events e) {
    EventEnvelope<TranscriptionCompleted> env =
        EventEnvelope.builder(Payloads.TYPE, e.payload)
            .withSource(Source.local("bench"))
            .withCorrelationIds(e.parents)
            .build();
    EventEnvelope<JsonNode> tree =
        env.withPayload(e.codec.objectMapper().<JsonNode>valueToTree(env.payload()));
    e.validator.validate(tree, ValidationMode.STRICT);
    return e.codec.encode(tree);
  }

  /**
   * What a subscriber does per delivery before its handler: decode, validate the payload
   * (permissive, as inbound checks do), map it to its class.
   */
  @Benchmark
  public EventEnvelope<TranscriptionCompleted> consumePath(Events e) {
    EventEnvelope<JsonNode> raw = e.codec.decode(e.bytes);
    if (!e.validator.check(raw, ValidationMode.PERMISSIVE).isEmpty()) {
      throw new IllegalStateException("invalid");
    }
    return e.codec.convertPayload(raw, TranscriptionCompleted.class);
  }

  @Benchmark
  public UUID deterministicId() {
    return EventIds.deterministic("fireflies.transcript.upload", Map.of("meeting_id", "abc123"));
  }

  /** A log per trial, in a temporary directory. */
  @State(Scope.Benchmark)
  public static class Wal {
    @Param({"each", "batched"})
    public String fsync;

    Path dir;
    WriteAheadLog wal;
    byte[] event;
    UUID id = UUID.randomUUID();

    @Setup(Level.Trial)
    public void open() throws IOException {
      dir = Files.createTempDirectory("wal-bench");
      FsyncPolicy policy =
          fsync.equals("each")
              ? FsyncPolicy.EACH_RECORD
              : FsyncPolicy.batched(Duration.ofMillis(2), 256);
      wal =
          WriteAheadLog.open(
              WalOptions.builder().path(dir.resolve("bench.wal")).fsync(policy).build());
      event = EventCodec.create().encode(Payloads.envelope(1));
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
      wal.close();
      deleteTree(dir);
    }
  }

  /** Durable appends from 8 threads, each waiting for its fsync. */
  @Benchmark
  @Threads(8)
  public long walAppend(Wal w) {
    return w.wal.append(w.id, Payloads.TYPE, w.event);
  }

  /** Durable appends from one thread, 256 at a time, each batch waited for (fsync groups). */
  @Benchmark
  @OperationsPerInvocation(256)
  public long walAppendAsync(Wal w) {
    java.util.concurrent.CompletableFuture<Long> last = null;
    for (int i = 0; i < 256; i++) {
      last = w.wal.appendAsync(w.id, Payloads.TYPE, w.event);
    }
    return last.join();
  }

  /** A log of 10,000 pending events, written once. */
  @State(Scope.Benchmark)
  public static class FullLog {
    Path dir;
    Path file;
    final EventCodec codec = EventCodec.create();

    @Setup(Level.Trial)
    public void write() throws IOException {
      dir = Files.createTempDirectory("wal-replay");
      file = dir.resolve("replay.wal");
      byte[] event = codec.encode(Payloads.envelope(1));
      try (WriteAheadLog wal =
          WriteAheadLog.open(
              WalOptions.builder()
                  .path(file)
                  .fsync(FsyncPolicy.batched(Duration.ofMillis(5), 1000))
                  .build())) {
        java.util.concurrent.CompletableFuture<Long> last = null;
        for (int i = 0; i < 10_000; i++) {
          last = wal.appendAsync(UUID.randomUUID(), Payloads.TYPE, event);
        }
        last.join();
      }
    }

    @TearDown(Level.Trial)
    public void delete() throws IOException {
      deleteTree(dir);
    }
  }

  /**
   * Replay's read side: open the log, stream what is pending and decode every event (as a durable
   * publisher's drain does).
   */
  @Benchmark
  @OperationsPerInvocation(10_000)
  public int walReplayRead(FullLog log) {
    int[] n = {0};
    try (WriteAheadLog wal = WriteAheadLog.open(WalOptions.of(log.file))) {
      wal.forEachPending(
          0,
          r -> {
            n[0] += log.codec.decode(r.event()).eventType().length() > 0 ? 1 : 0;
            return true;
          });
    }
    return n[0];
  }

  private static void deleteTree(Path root) throws IOException {
    try (var all = Files.walk(root)) {
      for (Path p : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
