package dev.bloodbank.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.fault.Scenario;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WriteAheadLogTest {
  @TempDir Path dir;

  static byte[] event(UUID id) {
    return ("{\"event_id\":\"" + id + "\",\"payload\":{\"text\":\"héllo\\nworld\"}}")
        .getBytes(StandardCharsets.UTF_8);
  }

  private Path log() {
    return dir.resolve("wal");
  }

  private WalOptions options(FsyncPolicy policy) {
    return WalOptions.builder().path(log()).fsync(policy).build();
  }

  /** The log's segment files, oldest first. */
  private List<Path> segmentFiles() throws IOException {
    try (Stream<Path> s = Files.list(log())) {
      return s.filter(p -> p.getFileName().toString().endsWith(".seg")).sorted().toList();
    }
  }

  private Path onlySegment() throws IOException {
    List<Path> all = segmentFiles();
    assertThat(all).hasSize(1);
    return all.get(0);
  }

  /** Every file under the log directory and its bytes. */
  private Map<String, byte[]> snapshot() throws IOException {
    Map<String, byte[]> out = new HashMap<>();
    try (Stream<Path> s = Files.list(log())) {
      for (Path p : s.toList()) {
        out.put(p.getFileName().toString(), Files.readAllBytes(p));
      }
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void pendingEventsSurviveAReopenAndConfirmedOnesDoNot(boolean eachRecord) {
    FsyncPolicy policy =
        eachRecord ? FsyncPolicy.EACH_RECORD : FsyncPolicy.batched(Duration.ofMillis(2), 8);
    List<UUID> ids = new ArrayList<>();
    try (WriteAheadLog wal = WriteAheadLog.open(options(policy))) {
      for (int i = 0; i < 4; i++) {
        UUID id = UUID.randomUUID();
        ids.add(id);
        long seq = wal.append(id, "a.b", event(id));
        if (i % 2 == 0) {
          wal.markDone(seq);
        }
      }
      assertThat(wal.pendingCount()).isEqualTo(2);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(options(policy))) {
      assertThat(wal.recoveryProblems()).isEmpty();
      List<WalRecord> pending = wal.pending();
      assertThat(pending).extracting(WalRecord::eventId).containsExactly(ids.get(1), ids.get(3));
      assertThat(new String(pending.get(0).event(), StandardCharsets.UTF_8))
          .contains("héllo\\nworld");
      long next = wal.append(UUID.randomUUID(), "a.b", event(UUID.randomUUID()));
      assertThat(next).isEqualTo(5);
    }
  }

  @Test
  void pendingBytesAndFsyncsAreReportedForMetrics() {
    List<Long> fsyncs = new ArrayList<>();
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      wal.fsyncListener(fsyncs::add);
      assertThat(wal.pendingBytes()).isZero();
      UUID a = UUID.randomUUID();
      long first = wal.append(a, "a.b", event(a));
      long one = wal.pendingBytes();
      assertThat(one).isPositive();
      UUID b = UUID.randomUUID();
      long second = wal.append(b, "a.b", event(b));
      assertThat(wal.pendingBytes()).isGreaterThan(one);
      assertThat(fsyncs).hasSize(2).allMatch(n -> n >= 0);
      wal.markDone(first);
      assertThat(wal.pendingBytes()).as("the segment still holds b").isPositive();
      wal.markDone(second);
      assertThat(wal.pendingBytes()).isZero();
    }
  }

  @Test
  void concurrentAppendsShareBatchedFsyncsAndAllLand() throws Exception {
    try (WriteAheadLog wal =
        WriteAheadLog.open(options(FsyncPolicy.batched(Duration.ofMillis(5), 64)))) {
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<Long>> seqs = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        UUID id = UUID.randomUUID();
        seqs.add(pool.submit(() -> wal.append(id, "a.b", event(id))));
      }
      for (Future<Long> f : seqs) {
        f.get();
      }
      pool.shutdown();
      assertThat(wal.pendingCount()).isEqualTo(400);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      assertThat(wal.pending()).hasSize(400);
    }
  }

  @Test
  void segmentsRollAtTheirSizeAndASegmentWhoseEventsAreAllDoneIsDeleted() throws Exception {
    WalOptions small =
        WalOptions.builder().path(log()).fsync(FsyncPolicy.EACH_RECORD).segmentBytes(4096).build();
    List<Long> seqs = new ArrayList<>();
    UUID keep = UUID.randomUUID();
    try (WriteAheadLog wal = WriteAheadLog.open(small)) {
      seqs.add(wal.append(keep, "a.b", event(keep)));
      for (int i = 0; i < 100; i++) {
        UUID id = UUID.randomUUID();
        seqs.add(wal.append(id, "a.b", event(id)));
      }
      assertThat(segmentFiles())
          .as("segments after 101 events of ~150 bytes")
          .hasSizeGreaterThan(3);
      for (long seq : seqs.subList(1, seqs.size())) {
        wal.markDone(seq);
      }
      wal.compact();
      // The first segment keeps its one pending event; every other one is gone.
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (segmentFiles().size() > 2 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(segmentFiles()).hasSizeLessThanOrEqualTo(2);
      assertThat(segmentFiles().get(0).getFileName().toString())
          .isEqualTo(WalFormat.segmentName(1));
      assertThat(wal.pending()).extracting(WalRecord::eventId).containsExactly(keep);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(small)) {
      assertThat(wal.pending()).extracting(WalRecord::eventId).containsExactly(keep);
      assertThat(wal.append(UUID.randomUUID(), "a.b", event(UUID.randomUUID()))).isEqualTo(102);
    }
  }

  @Test
  void aTornLastLineIsTruncatedNamingTheOffset() throws IOException {
    UUID id = UUID.randomUUID();
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      wal.append(id, "a.b", event(id));
    }
    Path file = onlySegment();
    long size = Files.size(file);
    Files.write(
        file, "{\"crc32c\":\"0000".getBytes(StandardCharsets.US_ASCII), StandardOpenOption.APPEND);
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      assertThat(wal.recoveryProblems())
          .singleElement()
          .asString()
          .contains(file.toString())
          .contains("torn")
          .contains("byte offset " + size);
      assertThat(wal.pending()).extracting(WalRecord::eventId).containsExactly(id);
    }
    assertThat(Files.size(file)).isEqualTo(size);
  }

  @Test
  void aLogOfManyReadBlocksRecoversEveryLineAndItsTornEnd() throws IOException {
    WalOptions opts =
        WalOptions.builder()
            .path(log())
            .fsync(FsyncPolicy.batched(Duration.ofMillis(2), 64))
            .build();
    List<UUID> pending = new ArrayList<>();
    String filler = "x".repeat(1000);
    try (WriteAheadLog wal = WriteAheadLog.open(opts)) {
      for (int i = 0; i < 400; i++) {
        UUID id = UUID.randomUUID();
        byte[] e =
            ("{\"event_id\":\"" + id + "\",\"payload\":{\"f\":\"" + filler + i + "\"}}")
                .getBytes(StandardCharsets.UTF_8);
        long seq = wal.append(id, "a.b", e);
        if (i % 3 == 0) {
          wal.markDone(seq);
        } else {
          pending.add(id);
        }
      }
    }
    Path file = onlySegment();
    long size = Files.size(file);
    assertThat(size).isGreaterThan(4L << 16);
    Files.write(
        file, "{\"crc32c\":\"12".getBytes(StandardCharsets.US_ASCII), StandardOpenOption.APPEND);
    try (WriteAheadLog wal = WriteAheadLog.open(opts)) {
      assertThat(wal.recoveryProblems())
          .singleElement()
          .asString()
          .contains("torn")
          .contains("byte offset " + size);
      assertThat(wal.pending()).extracting(WalRecord::eventId).containsExactlyElementsOf(pending);
    }
    assertThat(Files.size(file)).isEqualTo(size);
  }

  @Test
  @Scenario(14)
  void aFlippedBitInTheMiddleIsNeverReplayedAndIsQuarantinedInANewOwnerOnlyFile()
      throws IOException {
    List<UUID> ids = new ArrayList<>();
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      for (int i = 0; i < 3; i++) {
        UUID id = UUID.randomUUID();
        ids.add(id);
        wal.append(id, "a.b", event(id));
      }
    }
    Path file = onlySegment();
    // Someone else's file with the name a quarantine file of an old version would have had.
    Path foreign = log().resolve(file.getFileName() + ".corrupt");
    Files.writeString(foreign, "not ours\n");
    byte[] bytes = Files.readAllBytes(file);
    String text = new String(bytes, StandardCharsets.UTF_8);
    int thirdLine = text.indexOf('\n', text.indexOf('\n') + 1) + 1; // header, first record
    int target = thirdLine + 60;
    bytes[target] = (byte) (bytes[target] ^ 0x01);
    Files.write(file, bytes);
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      assertThat(wal.recoveryProblems())
          .singleElement()
          .asString()
          .contains(file + " line 3")
          .contains("checksum mismatch");
      assertThat(wal.pending())
          .extracting(WalRecord::eventId)
          .containsExactly(ids.get(0), ids.get(2));
    }
    assertThat(Files.readString(foreign)).isEqualTo("not ours\n");
    List<Path> quarantined;
    try (Stream<Path> s = Files.list(log())) {
      quarantined = s.filter(p -> p.getFileName().toString().startsWith("quarantine-")).toList();
    }
    assertThat(quarantined).hasSize(1);
    assertThat(Files.readString(quarantined.get(0))).contains("line 3");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(quarantined.get(0))))
        .isEqualTo("rw-------");
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      assertThat(wal.recoveryProblems()).isEmpty();
    }
  }

  @Test
  @Scenario(16)
  void theLogIsOwnerOnlyAndOneReadableByOthersIsRefused() throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      wal.append(UUID.randomUUID(), "a.b", event(UUID.randomUUID()));
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(log())))
          .isEqualTo("rwx------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(onlySegment())))
          .isEqualTo("rw-------");
    }
    Files.setPosixFilePermissions(onlySegment(), PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD)))
        .isInstanceOf(WalException.class)
        .hasMessageContaining(onlySegment().toString())
        .hasMessageContaining("rw-r--r--")
        .hasMessageContaining("chmod 600");
    Files.setPosixFilePermissions(onlySegment(), PosixFilePermissions.fromString("rw-------"));
    Files.setPosixFilePermissions(log(), PosixFilePermissions.fromString("rwxr-xr-x"));
    assertThatThrownBy(() -> WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD)))
        .isInstanceOf(WalException.class)
        .hasMessageContaining(log().toString())
        .hasMessageContaining("chmod 700");
  }

  @Test
  @Scenario(16)
  void symbolicLinksAreRefusedForTheDirectoryAndForASegment() throws IOException {
    Path real = dir.resolve("real");
    try (WriteAheadLog wal =
        WriteAheadLog.open(
            WalOptions.builder().path(real).fsync(FsyncPolicy.EACH_RECORD).build())) {
      wal.append(UUID.randomUUID(), "a.b", event(UUID.randomUUID()));
    }
    Path link = dir.resolve("link");
    Files.createSymbolicLink(link, real);
    assertThatThrownBy(() -> WriteAheadLog.open(WalOptions.of(link)))
        .isInstanceOf(WalException.class)
        .hasMessageContaining("symbolic link");

    // A segment replaced by a link to a file elsewhere.
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      wal.append(UUID.randomUUID(), "a.b", event(UUID.randomUUID()));
    }
    Path segment = onlySegment();
    Path elsewhere = dir.resolve("elsewhere.seg");
    Files.move(segment, elsewhere);
    Files.createSymbolicLink(segment, elsewhere);
    assertThatThrownBy(() -> WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD)))
        .isInstanceOf(WalException.class)
        .hasMessageContaining("symbolic link");
  }

  @Test
  void aFileThatIsNotALogIsRefusedAndLeftAsItIs() throws IOException {
    Files.createDirectories(log());
    Files.setPosixFilePermissions(log(), PosixFilePermissions.fromString("rwx------"));
    Path stranger = log().resolve(WalFormat.segmentName(1));
    byte[] content = "some notes\nthat are not a log\npartial".getBytes(StandardCharsets.UTF_8);
    Files.write(stranger, content);
    Files.setPosixFilePermissions(stranger, PosixFilePermissions.fromString("rw-------"));
    assertThatThrownBy(() -> WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD)))
        .isInstanceOf(WalException.class)
        .hasMessageContaining(stranger.toString())
        .hasMessageContaining("not a Bloodbank write-ahead log");
    assertThat(Files.readAllBytes(stranger)).isEqualTo(content);

    Path file = dir.resolve("notes.txt");
    Files.writeString(file, "hello\n");
    assertThatThrownBy(() -> WriteAheadLog.open(WalOptions.of(file)))
        .isInstanceOf(WalException.class)
        .hasMessageContaining("not a Bloodbank write-ahead log");
    assertThat(Files.readString(file)).isEqualTo("hello\n");
  }

  @Test
  void aPlainJsonlLogAsPythonWritesItIsRefusedWithHowToImportIt() throws IOException {
    Path plain = dir.resolve("raw_voice_ingest.jsonl");
    Files.writeString(
        plain, "{\"event_id\": \"" + UUID.randomUUID() + "\", \"event_type\": \"a.b\"}\n");
    assertThatThrownBy(() -> WriteAheadLog.open(WalOptions.of(plain)))
        .isInstanceOf(WalException.class)
        .hasMessageContaining("plain JSONL")
        .hasMessageContaining("bb wal import " + plain);
  }

  @Test
  void aPrettyPrintedEventIsLoggedAsOneLine() throws IOException {
    UUID id = UUID.randomUUID();
    byte[] pretty =
        ("{\n  \"event_id\" : \"" + id + "\",\n  \"payload\" : {\n    \"text\" : \"a\\nb\"\n  }\n}")
            .getBytes(StandardCharsets.UTF_8);
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      wal.append(id, "a.b", pretty);
    }
    assertThat(Files.readAllLines(onlySegment())).hasSize(2); // the header and one record
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      assertThat(wal.recoveryProblems()).isEmpty();
      assertThat(new String(wal.pending().get(0).event(), StandardCharsets.UTF_8))
          .isEqualTo("{\"event_id\":\"" + id + "\",\"payload\":{\"text\":\"a\\nb\"}}");
    }
  }

  @Test
  void aReadOnlyOpenReportsProblemsAndChangesNothing() throws IOException {
    List<UUID> ids = new ArrayList<>();
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      for (int i = 0; i < 3; i++) {
        UUID id = UUID.randomUUID();
        ids.add(id);
        wal.append(id, "a.b", event(id));
      }
    }
    Path file = onlySegment();
    byte[] bytes = Files.readAllBytes(file);
    String text = new String(bytes, StandardCharsets.UTF_8);
    int target = text.indexOf('\n', text.indexOf('\n') + 1) + 60;
    bytes[target] = (byte) (bytes[target] ^ 0x01);
    Files.write(file, bytes);
    Files.write(
        file, "{\"crc32c\":\"ab".getBytes(StandardCharsets.US_ASCII), StandardOpenOption.APPEND);
    Map<String, byte[]> before = snapshot();
    try (WriteAheadLog wal = WriteAheadLog.openReadOnly(options(FsyncPolicy.EACH_RECORD))) {
      assertThat(wal.recoveryProblems()).hasSize(2);
      assertThat(wal.pending())
          .extracting(WalRecord::eventId)
          .containsExactly(ids.get(0), ids.get(2));
      assertThatThrownBy(() -> wal.append(UUID.randomUUID(), "a.b", event(UUID.randomUUID())))
          .isInstanceOf(WalException.class)
          .hasMessageContaining("read-only");
    }
    Map<String, byte[]> after = snapshot();
    assertThat(after.keySet()).isEqualTo(before.keySet());
    for (String name : before.keySet()) {
      assertThat(after.get(name)).as(name).isEqualTo(before.get(name));
    }
  }

  @Test
  void oneHolderAtATime() {
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      assertThatThrownBy(() -> WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD)))
          .isInstanceOf(WalException.class)
          .hasMessageContaining("held by");
      // The refused open did not release the holder's lock: a third one is refused too.
      assertThatThrownBy(() -> WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD)))
          .isInstanceOf(WalException.class)
          .hasMessageContaining("held by");
    }
    WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD)).close();
  }

  @Test
  void anOversizeEventIsRefusedNamingTheLimit() {
    try (WriteAheadLog wal =
        WriteAheadLog.open(WalOptions.builder().path(log()).maxRecordBytes(100).build())) {
      assertThatThrownBy(() -> wal.append(UUID.randomUUID(), "a.b", new byte[200]))
          .isInstanceOf(WalException.class)
          .hasMessageContaining("200 bytes")
          .hasMessageContaining("100 bytes");
    }
  }

  @Test
  void asyncAppendsFromOneThreadShareFsyncsAndCompleteInOrder() throws Exception {
    List<java.util.concurrent.CompletableFuture<Long>> futures = new ArrayList<>();
    try (WriteAheadLog wal =
        WriteAheadLog.open(options(FsyncPolicy.batched(Duration.ofMillis(20), 1000)))) {
      for (int i = 0; i < 300; i++) {
        UUID id = UUID.randomUUID();
        futures.add(wal.appendAsync(id, "a.b", event(id)));
      }
      // fewer than maxRecords: the timer forces the group
      for (int i = 0; i < futures.size(); i++) {
        assertThat(futures.get(i).get(5, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(i + 1L);
      }
    }
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      assertThat(wal.pendingCount()).isEqualTo(300);
    }
  }

  @Test
  void anAsyncAppendAfterCloseFailsRatherThanPretending() {
    WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.batched(Duration.ofMillis(5), 10)));
    wal.close();
    assertThat(wal.appendAsync(UUID.randomUUID(), "a.b", event(UUID.randomUUID())))
        .failsWithin(Duration.ofSeconds(1))
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .withCauseInstanceOf(WalException.class);
  }

  @Test
  void forEachPendingStartsAtASequenceNumberAndStopsWhenTold() {
    WalOptions small =
        WalOptions.builder().path(log()).fsync(FsyncPolicy.EACH_RECORD).segmentBytes(4096).build();
    try (WriteAheadLog wal = WriteAheadLog.open(small)) {
      for (int i = 0; i < 60; i++) {
        UUID id = UUID.randomUUID();
        wal.append(id, "a.b", event(id));
      }
      List<Long> seen = new ArrayList<>();
      wal.forEachPending(
          41,
          r -> {
            seen.add(r.seq());
            return seen.size() < 5;
          });
      assertThat(seen).containsExactly(41L, 42L, 43L, 44L, 45L);
    }
  }

  /**
   * A read from a sequence number starts near its record (a drain goes on where it stopped): what
   * it yields is exactly the pending events from there on, in a log written now and in one read
   * back by recovery.
   */
  @Test
  void forEachPendingFromTheMiddleOfLargeSegmentsYieldsExactlyWhatIsPendingFromThere() {
    WalOptions opts =
        WalOptions.builder()
            .path(log())
            .fsync(FsyncPolicy.batched(Duration.ofMillis(5), 1000))
            .segmentBytes(1 << 20)
            .build();
    String pad = "x".repeat(900);
    List<Long> pendingSeqs = new ArrayList<>();
    try (WriteAheadLog wal = WriteAheadLog.open(opts)) {
      java.util.concurrent.CompletableFuture<Long> last = null;
      for (int i = 0; i < 3000; i++) {
        UUID id = UUID.randomUUID();
        byte[] e = ("{\"event_id\":\"" + id + "\",\"pad\":\"" + pad + "\"}").getBytes();
        last = wal.appendAsync(id, "a.b", e);
      }
      last.join();
      for (long seq = 1; seq <= 3000; seq++) {
        if (seq % 3 == 0) {
          wal.markDone(seq);
        } else {
          pendingSeqs.add(seq);
        }
      }
      assertThat(wal.segments()).hasSizeGreaterThanOrEqualTo(3);
      checkReadsFrom(wal, pendingSeqs);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(opts)) {
      checkReadsFrom(wal, pendingSeqs);
    }
  }

  private static void checkReadsFrom(WriteAheadLog wal, List<Long> pendingSeqs) {
    java.util.Random random = new java.util.Random(16);
    for (int i = 0; i < 40; i++) {
      long from = 1 + random.nextInt(3100);
      List<Long> seen = new ArrayList<>();
      wal.forEachPending(from, r -> seen.add(r.seq()));
      assertThat(seen)
          .as("from %d", from)
          .containsExactlyElementsOf(pendingSeqs.stream().filter(s -> s >= from).toList());
    }
  }
}
