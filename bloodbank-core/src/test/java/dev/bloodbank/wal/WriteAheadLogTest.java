package dev.bloodbank.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WriteAheadLogTest {
  @TempDir Path dir;

  private static byte[] event(UUID id) {
    return ("{\"event_id\":\"" + id + "\",\"payload\":{\"text\":\"héllo\\nworld\"}}")
        .getBytes(StandardCharsets.UTF_8);
  }

  private WalOptions options(FsyncPolicy policy) {
    return WalOptions.builder()
        .path(dir.resolve("wal.jsonl"))
        .fsync(policy)
        .compactAfter(5)
        .build();
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
  void compactionKeepsOnlyPendingEvents() throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      UUID keep = UUID.randomUUID();
      wal.append(keep, "a.b", event(keep));
      for (int i = 0; i < 5; i++) {
        UUID id = UUID.randomUUID();
        wal.markDone(wal.append(id, "a.b", event(id)));
      }
      // compactAfter(5) compacted on the fifth confirm
      assertThat(Files.readAllLines(wal.path())).hasSize(1);
      assertThat(wal.pending()).extracting(WalRecord::eventId).containsExactly(keep);
    }
  }

  @Test
  void aTornLastLineIsTruncatedNamingTheOffset() throws IOException {
    Path file = dir.resolve("wal.jsonl");
    UUID id = UUID.randomUUID();
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      wal.append(id, "a.b", event(id));
    }
    long size = Files.size(file);
    Files.write(
        file, "{\"crc32c\":\"0000".getBytes(StandardCharsets.US_ASCII), StandardOpenOption.APPEND);
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      assertThat(wal.recoveryProblems())
          .singleElement()
          .asString()
          .contains("torn")
          .contains("byte offset " + size);
      assertThat(wal.pending()).extracting(WalRecord::eventId).containsExactly(id);
    }
    assertThat(Files.size(file)).isEqualTo(size);
  }

  @Test
  void aLogOfManyReadBlocksRecoversEveryLineAndItsTornEnd() throws IOException {
    Path file = dir.resolve("wal.jsonl");
    WalOptions opts =
        WalOptions.builder()
            .path(file)
            .fsync(FsyncPolicy.batched(Duration.ofMillis(2), 64))
            .compactAfter(100_000)
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
  void aFlippedBitInTheMiddleIsNeverReplayedAndIsMovedAside() throws IOException {
    Path file = dir.resolve("wal.jsonl");
    List<UUID> ids = new ArrayList<>();
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      for (int i = 0; i < 3; i++) {
        UUID id = UUID.randomUUID();
        ids.add(id);
        wal.append(id, "a.b", event(id));
      }
    }
    byte[] bytes = Files.readAllBytes(file);
    int secondLine = new String(bytes, StandardCharsets.UTF_8).indexOf('\n') + 1;
    int target = secondLine + 60;
    bytes[target] = (byte) (bytes[target] ^ 0x01);
    Files.write(file, bytes);
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      assertThat(wal.recoveryProblems())
          .singleElement()
          .asString()
          .contains(file.toString() + " line 2")
          .contains("checksum mismatch");
      assertThat(wal.pending())
          .extracting(WalRecord::eventId)
          .containsExactly(ids.get(0), ids.get(2));
    }
    Path aside = dir.resolve("wal.jsonl.corrupt");
    assertThat(Files.readString(aside)).contains("line 2");
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      assertThat(wal.recoveryProblems()).isEmpty();
    }
  }

  @Test
  void filesAreOwnerOnlyAndAWorldReadableLogIsRefused() throws IOException {
    Path file = dir.resolve("wal.jsonl");
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
          .isEqualTo("rw-------");
    }
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD)))
        .isInstanceOf(WalException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("rw-r--r--")
        .hasMessageContaining("chmod 600");
  }

  @Test
  void oneHolderAtATime() {
    try (WriteAheadLog wal = WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD))) {
      assertThatThrownBy(() -> WriteAheadLog.open(options(FsyncPolicy.EACH_RECORD)))
          .isInstanceOf(WalException.class)
          .hasMessageContaining("held by another");
    }
  }

  @Test
  void anOversizeEventIsRefusedNamingTheLimit() {
    try (WriteAheadLog wal =
        WriteAheadLog.open(
            WalOptions.builder().path(dir.resolve("w.jsonl")).maxRecordBytes(100).build())) {
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
}
