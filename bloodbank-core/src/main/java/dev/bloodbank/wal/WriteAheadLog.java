package dev.bloodbank.wal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An append-only JSONL log of events awaiting the broker's confirm.
 *
 * <p>Each line is {@code {"crc32c":"<8 hex>","record":{...}}} where the checksum (CRC-32C) covers
 * the exact bytes of the record. An event record is {@code {"seq":n,"op":"event","id":...,
 * "event_type":...,"event":<envelope>}}; a confirm is {@code {"seq":n,"op":"done"}}. On {@link
 * #open}: a torn last line (a crash mid-write) is truncated with a warning naming the file and byte
 * offset; a corrupt complete line is never replayed: it is logged as an error naming the file and
 * line and moved to {@code <file>.corrupt}. Files are created readable by the owner only, and a
 * file readable by others is refused. One process at a time holds a log (a file lock).
 *
 * <p>Thread-safe.
 */
public final class WriteAheadLog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);
  private static final byte[] PREFIX = "{\"crc32c\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] MIDDLE = "\",\"record\":".getBytes(StandardCharsets.US_ASCII);
  private static final int HEADER = PREFIX.length + 8 + MIDDLE.length;
  private static final Set<PosixFilePermission> OWNER_ONLY =
      EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

  private final WalOptions options;
  private final Path path;
  // jackson-core only: a writer process starts without loading databind (see WalCrashIT).
  private final JsonFactory json = new JsonFactory();
  private final ReentrantLock lock = new ReentrantLock();
  private final TreeSet<Long> pending = new TreeSet<>();
  private final java.util.ArrayDeque<Waiter> waiters = new java.util.ArrayDeque<>();
  private final List<String> recoveryProblems = new ArrayList<>();
  // Recovery only: whether the line just applied marked an event done.
  private boolean lastOpWasDone;
  private final @Nullable ScheduledExecutorService flusher;
  private FileChannel channel;
  private FileLock fileLock;
  private long nextSeq = 1;
  private long writtenSeq;
  private long flushedSeq;
  private long doneSinceCompaction;
  private @Nullable IOException flushFailure;
  private boolean closed;

  private WriteAheadLog(WalOptions options) {
    this.options = options;
    this.path = options.path().toAbsolutePath();
    try {
      openFile();
      recover();
    } catch (IOException e) {
      closeQuietly();
      throw new WalException("cannot open write-ahead log " + path + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly();
      throw e;
    }
    if (options.fsync().eachRecord()) {
      this.flusher = null;
    } else {
      this.flusher =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "bloodbank-wal-flush");
                t.setDaemon(true);
                return t;
              });
      long nanos = options.fsync().maxDelay().toNanos();
      flusher.scheduleWithFixedDelay(this::flushGroup, nanos, nanos, TimeUnit.NANOSECONDS);
    }
  }

  /**
   * Opens (creating if needed) a log, recovering what an earlier process left in it.
   *
   * @param options the file and fsync policy
   * @return the log
   * @throws WalException if the file is readable by others, held by another process, or cannot be
   *     read or written
   */
  public static WriteAheadLog open(WalOptions options) {
    return new WriteAheadLog(options);
  }

  private void openFile() throws IOException {
    Path parent = path.getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    boolean posix =
        Files.getFileStore(parent != null ? parent : path).supportsFileAttributeView("posix");
    if (Files.exists(path)) {
      if (posix) {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(path);
        Set<PosixFilePermission> others = EnumSet.copyOf(perms);
        others.removeAll(
            EnumSet.of(
                PosixFilePermission.OWNER_READ,
                PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_EXECUTE));
        if (!others.isEmpty()) {
          throw new WalException(
              "write-ahead log "
                  + path
                  + " is accessible by others ("
                  + PosixFilePermissions.toString(perms)
                  + "); it holds event data: run chmod 600 on it",
              null);
        }
      }
    } else {
      try {
        if (posix) {
          Files.createFile(path, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } else {
          Files.createFile(path);
        }
      } catch (FileAlreadyExistsException e) {
        // created meanwhile; checked on the next open
      }
    }
    channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      fileLock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      fileLock = null;
    }
    if (fileLock == null) {
      throw new WalException(
          "write-ahead log " + path + " is held by another process or log", null);
    }
  }

  // ---- recovery ----------------------------------------------------------------------

  private void recover() throws IOException {
    long size = channel.size();
    List<long[]> corrupt = new ArrayList<>();
    long offset = 0;
    long lineNo = 0;
    long doneCount = 0;
    // Read in blocks and cut lines out of them: a byte at a time through a stream costs more
    // than checking the records.
    try (InputStream in = Files.newInputStream(path)) {
      byte[] block = new byte[1 << 16];
      byte[] carry = new byte[0]; // the start of a line cut by the end of the previous block
      long lineStart = 0;
      long pos = 0;
      int n;
      while ((n = in.read(block)) != -1) {
        int from = 0;
        for (int i = 0; i < n; i++) {
          if (block[i] != '\n') {
            continue;
          }
          byte[] bytes;
          if (carry.length == 0) {
            bytes = java.util.Arrays.copyOfRange(block, from, i);
          } else {
            bytes = java.util.Arrays.copyOf(carry, carry.length + i - from);
            System.arraycopy(block, from, bytes, carry.length, i - from);
            carry = new byte[0];
          }
          from = i + 1;
          lineNo++;
          String problem = apply(bytes);
          if (problem == null && lastOpWasDone) {
            doneCount++;
          }
          if (problem != null) {
            corrupt.add(new long[] {lineNo, lineStart});
            LOG.error(
                "write-ahead log {} line {} (byte offset {}) is corrupt ({}); it is moved to"
                    + " {}.corrupt and will not be replayed",
                path,
                lineNo,
                lineStart,
                problem,
                path.getFileName());
            recoveryProblems.add(path + " line " + lineNo + ": " + problem);
          }
          lineStart = pos + from;
        }
        if (from < n) {
          byte[] more = java.util.Arrays.copyOf(carry, carry.length + n - from);
          System.arraycopy(block, from, more, carry.length, n - from);
          carry = more;
        }
        pos += n;
      }
      offset = lineStart;
      if (carry.length > 0) {
        LOG.warn(
            "write-ahead log {} ends with a torn record ({} bytes at byte offset {}); truncating it",
            path,
            carry.length,
            offset);
        recoveryProblems.add(path + " torn record truncated at byte offset " + offset);
        channel.truncate(offset);
        channel.force(true);
      }
    }
    channel.position(channel.size());
    writtenSeq = flushedSeq = nextSeq - 1;
    doneSinceCompaction = doneCount;
    if (!corrupt.isEmpty()) {
      moveAside(corrupt);
    }
    if (size > 0) {
      LOG.info(
          "write-ahead log {} recovered: {} event(s) awaiting confirmation", path, pending.size());
    }
  }

  /**
   * Applies one complete line to the in-memory state; returns what is wrong with it, or null, and
   * sets {@link #lastOpWasDone}.
   */
  private @Nullable String apply(byte[] line) {
    lastOpWasDone = false;
    Header record;
    try {
      record = verify(line);
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
    long seq = record.seq();
    String op = record.op();
    if (seq < 1) {
      return "no sequence number";
    }
    nextSeq = Math.max(nextSeq, seq + 1);
    switch (op) {
      case "event" -> pending.add(seq);
      case "done" -> {
        pending.remove(seq);
        lastOpWasDone = true;
      }
      default -> {
        return "unknown op '" + op + "'";
      }
    }
    return null;
  }

  /** What recovery and replay need of a record, read without parsing the event itself. */
  private record Header(
      long seq, String op, @Nullable String id, @Nullable String eventType, int eventStart) {}

  /**
   * Checks a line's framing and checksum and reads its record's header fields. The event is not
   * parsed: the checksum proves it is the JSON this log wrote.
   */
  private Header verify(byte[] line) {
    if (line.length < HEADER + 2 || !startsWith(line, PREFIX) || line[line.length - 1] != '}') {
      throw new IllegalArgumentException("not a log record");
    }
    for (int i = 0; i < MIDDLE.length; i++) {
      if (line[PREFIX.length + 8 + i] != MIDDLE[i]) {
        throw new IllegalArgumentException("not a log record");
      }
    }
    long expected;
    try {
      expected = Long.parseLong(new String(line, PREFIX.length, 8, StandardCharsets.US_ASCII), 16);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("malformed checksum");
    }
    CRC32C crc = new CRC32C();
    crc.update(line, HEADER, line.length - 1 - HEADER);
    if (crc.getValue() != expected) {
      throw new IllegalArgumentException("checksum mismatch");
    }
    long seq = -1;
    String op = "";
    String id = null;
    String type = null;
    int eventStart = -1;
    try (JsonParser p = json.createParser(line, HEADER, line.length - 1 - HEADER)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("checksum matches but the record is not a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        switch (name) {
          case "seq" -> seq = p.getLongValue();
          case "op" -> op = p.getText();
          case "id" -> id = p.getText();
          case "event_type" -> type = p.getText();
          case "event" -> {
            eventStart = eventOffset(line, (int) p.currentTokenLocation().getByteOffset());
          }
          default -> p.skipChildren();
        }
        if (eventStart >= 0) {
          break;
        }
        if (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY) {
          p.skipChildren();
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("checksum matches but the record is not JSON");
    }
    return new Header(seq, op, id, type, eventStart);
  }

  /** The event's first byte, whether the parser counts from the array or from the record. */
  private static int eventOffset(byte[] line, int reported) {
    for (int candidate : new int[] {reported, reported + HEADER}) {
      if (candidate >= HEADER && candidate < line.length && line[candidate] == '{') {
        return candidate;
      }
    }
    throw new IllegalArgumentException("the event of the record is not a JSON object");
  }

  private static boolean startsWith(byte[] a, byte[] prefix) {
    for (int i = 0; i < prefix.length; i++) {
      if (a[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** Copies corrupt lines to {@code <file>.corrupt} and rewrites the log without them. */
  private void moveAside(List<long[]> corrupt) throws IOException {
    Set<Long> bad = new TreeSet<>();
    for (long[] c : corrupt) {
      bad.add(c[0]);
    }
    Path aside = path.resolveSibling(path.getFileName() + ".corrupt");
    if (!Files.exists(aside)) {
      Files.createFile(aside, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    }
    try (OutputStream out = Files.newOutputStream(aside, StandardOpenOption.APPEND)) {
      long lineNo = 0;
      for (byte[] l : readLines()) {
        lineNo++;
        if (bad.contains(lineNo)) {
          out.write(("# " + path + " line " + lineNo + "\n").getBytes(StandardCharsets.UTF_8));
          out.write(l);
          out.write('\n');
        }
      }
    }
    rewrite(l -> true, bad);
  }

  private List<byte[]> readLines() throws IOException {
    List<byte[]> lines = new ArrayList<>();
    byte[] all = Files.readAllBytes(path);
    int start = 0;
    for (int i = 0; i < all.length; i++) {
      if (all[i] == '\n') {
        byte[] l = new byte[i - start];
        System.arraycopy(all, start, l, 0, l.length);
        lines.add(l);
        start = i + 1;
      }
    }
    return lines;
  }

  // ---- appending ---------------------------------------------------------------------

  /**
   * Appends an event and returns once it is on disk, as the fsync policy says.
   *
   * @param eventId the event's id
   * @param eventType the event's type
   * @param eventJson the event's JSON wire bytes (one compact JSON object, no newline)
   * @return the record's sequence number, for {@link #markDone(long)}
   * @throws WalException if the record could not be written and forced to disk; it is then not in
   *     the log as far as this process knows, and the caller must not report success
   */
  public long append(UUID eventId, String eventType, byte[] eventJson) {
    try {
      return appendAsync(eventId, eventType, eventJson).join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof WalException) {
        throw (WalException) e.getCause();
      }
      throw new WalException(
          "append to write-ahead log " + path + " failed: " + e.getCause(), e.getCause());
    }
  }

  /**
   * Appends an event without waiting for the disk: the future completes with the record's sequence
   * number once the record is forced to disk (by its own fsync, or its group's with a batched
   * policy). This lets one thread keep a whole fsync group busy. Completion runs outside the log's
   * lock, on the appending thread or the log's flush thread.
   *
   * @param eventId the event's id
   * @param eventType the event's type
   * @param eventJson the event's JSON wire bytes (one compact JSON object, no newline)
   * @return a future completed with the sequence number once durable, or exceptionally with a
   *     {@link WalException}; the caller must not report success before it completes
   */
  public CompletableFuture<Long> appendAsync(UUID eventId, String eventType, byte[] eventJson) {
    if (eventJson.length > options.maxRecordBytes()) {
      return CompletableFuture.failedFuture(
          new WalException(
              "event "
                  + eventId
                  + " is "
                  + eventJson.length
                  + " bytes, over the write-ahead log's record limit of "
                  + options.maxRecordBytes()
                  + " bytes",
              null));
    }
    CompletableFuture<Long> durable = new CompletableFuture<>();
    List<Waiter> ready;
    lock.lock();
    try {
      ensureOpen();
      if (flushFailure != null) {
        throw new WalException(
            "forcing " + path + " to disk failed earlier: " + flushFailure.getMessage(),
            flushFailure);
      }
      long seq = nextSeq;
      byte[] record =
          concat(
              ("{\"seq\":"
                      + seq
                      + ",\"op\":\"event\",\"id\":\""
                      + eventId
                      + "\",\"event_type\":"
                      + '"'
                      + new String(JsonStringEncoder.getInstance().quoteAsString(eventType))
                      + '"'
                      + ",\"event\":")
                  .getBytes(StandardCharsets.UTF_8),
              eventJson,
              new byte[] {'}'});
      write(record);
      nextSeq++;
      writtenSeq = seq;
      pending.add(seq);
      waiters.add(new Waiter(seq, durable));
      if (options.fsync().eachRecord() || writtenSeq - flushedSeq >= options.fsync().maxRecords()) {
        force();
      }
      ready = takeFlushed();
    } catch (IOException e) {
      ready = failWaiters(e);
      durable.completeExceptionally(
          new WalException("append to write-ahead log " + path + " failed: " + e.getMessage(), e));
    } catch (WalException e) {
      durable.completeExceptionally(e);
      ready = List.of();
    } finally {
      lock.unlock();
    }
    complete(ready);
    return durable;
  }

  /** An append waiting for the fsync that covers it. */
  private record Waiter(long seq, CompletableFuture<Long> future, @Nullable Throwable failure) {
    Waiter(long seq, CompletableFuture<Long> future) {
      this(seq, future, null);
    }
  }

  /** Removes the waiters the last fsync covered; call under the lock, complete outside it. */
  private List<Waiter> takeFlushed() {
    List<Waiter> out = new ArrayList<>();
    while (!waiters.isEmpty() && waiters.peekFirst().seq() <= flushedSeq) {
      out.add(waiters.pollFirst());
    }
    return out;
  }

  /** Removes every waiter with a failure; call under the lock, complete outside it. */
  private List<Waiter> failWaiters(Throwable cause) {
    List<Waiter> out = new ArrayList<>();
    while (!waiters.isEmpty()) {
      Waiter w = waiters.pollFirst();
      out.add(new Waiter(w.seq(), w.future(), cause));
    }
    return out;
  }

  private void complete(List<Waiter> ready) {
    for (Waiter w : ready) {
      if (w.failure() == null) {
        w.future().complete(w.seq());
      } else {
        w.future()
            .completeExceptionally(
                new WalException(
                    "forcing " + path + " to disk failed: " + w.failure().getMessage(),
                    w.failure()));
      }
    }
  }

  /**
   * Records that the broker confirmed an event, so it is not replayed. Not forced to disk: if the
   * mark is lost in a crash, the event is replayed once more with the same id.
   *
   * @param seq the sequence number {@link #append} returned
   */
  public void markDone(long seq) {
    lock.lock();
    try {
      if (closed || !pending.remove(seq)) {
        return;
      }
      write(("{\"seq\":" + seq + ",\"op\":\"done\"}").getBytes(StandardCharsets.UTF_8));
      doneSinceCompaction++;
      if (doneSinceCompaction >= options.compactAfter()) {
        compactLocked();
      }
    } catch (IOException e) {
      LOG.warn(
          "could not mark record {} of {} done ({}); it will be replayed", seq, path, e.toString());
    } finally {
      lock.unlock();
    }
  }

  private void write(byte[] record) throws IOException {
    CRC32C crc = new CRC32C();
    crc.update(record, 0, record.length);
    String hex = String.format("%08x", crc.getValue());
    ByteBuffer buf = ByteBuffer.allocate(HEADER + record.length + 2);
    buf.put(PREFIX).put(hex.getBytes(StandardCharsets.US_ASCII)).put(MIDDLE).put(record);
    buf.put((byte) '}').put((byte) '\n').flip();
    long start = channel.position();
    try {
      while (buf.hasRemaining()) {
        channel.write(buf);
      }
    } catch (IOException e) {
      // A partial line (disk full, file size limit) would glue the next record onto it and make
      // that one unreadable; cut it off, or refuse every later append if that fails too.
      try {
        channel.truncate(start);
        channel.position(start);
      } catch (IOException again) {
        e.addSuppressed(again);
        flushFailure = e;
      }
      throw e;
    }
  }

  private void force() throws IOException {
    long upTo = writtenSeq;
    try {
      channel.force(false);
    } catch (IOException e) {
      flushFailure = e;
      throw e;
    }
    flushedSeq = upTo;
  }

  private void flushGroup() {
    List<Waiter> ready = List.of();
    lock.lock();
    try {
      if (!closed && writtenSeq > flushedSeq) {
        force();
      }
      ready = takeFlushed();
    } catch (IOException e) {
      LOG.error("forcing write-ahead log {} to disk failed: {}", path, e.toString());
      ready = failWaiters(e);
    } finally {
      lock.unlock();
    }
    complete(ready);
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int i = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, i, p.length);
      i += p.length;
    }
    return out;
  }

  // ---- reading and compaction --------------------------------------------------------

  /**
   * Returns the events not confirmed yet, oldest first, read from the file.
   *
   * @return the pending records
   * @throws WalException if the file cannot be read
   */
  public List<WalRecord> pending() {
    lock.lock();
    try {
      ensureOpen();
      List<WalRecord> out = new ArrayList<>(pending.size());
      if (pending.isEmpty()) {
        return out;
      }
      for (byte[] l : readLines()) {
        Header r;
        try {
          r = verify(l);
        } catch (IllegalArgumentException e) {
          continue;
        }
        if ("event".equals(r.op())
            && pending.contains(r.seq())
            && r.eventStart() > 0
            && r.id() != null) {
          // The record ends with the event and then '}' of the record and '}' of the line.
          out.add(
              new WalRecord(
                  r.seq(),
                  UUID.fromString(r.id()),
                  String.valueOf(r.eventType()),
                  java.util.Arrays.copyOfRange(l, r.eventStart(), l.length - 2)));
        }
      }
      return out;
    } catch (IOException e) {
      throw new WalException("cannot read write-ahead log " + path + ": " + e.getMessage(), e);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Returns how many events await confirmation.
   *
   * @return the count
   */
  public int pendingCount() {
    lock.lock();
    try {
      return pending.size();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Returns what recovery found when the log was opened: truncated torn records and corrupt lines
   * moved aside, each naming the file and line or byte offset.
   *
   * @return the problems; empty for a clean log
   */
  public List<String> recoveryProblems() {
    return List.copyOf(recoveryProblems);
  }

  /**
   * Returns the log file.
   *
   * @return the path
   */
  public Path path() {
    return path;
  }

  /** Rewrites the file with only the events awaiting confirmation. */
  public void compact() {
    lock.lock();
    try {
      ensureOpen();
      compactLocked();
    } catch (IOException e) {
      throw new WalException("cannot compact write-ahead log " + path + ": " + e.getMessage(), e);
    } finally {
      lock.unlock();
    }
  }

  private void compactLocked() throws IOException {
    force();
    rewrite(l -> true, Set.of());
    doneSinceCompaction = 0;
  }

  /** Keeps valid event lines still pending, skipping the given line numbers; atomic rename. */
  private void rewrite(java.util.function.Predicate<byte[]> keep, Set<Long> skipLines)
      throws IOException {
    Path tmp = path.resolveSibling(path.getFileName() + ".compact");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    long lineNo = 0;
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
      for (byte[] l : readLines()) {
        lineNo++;
        if (skipLines.contains(lineNo) || !keep.test(l)) {
          continue;
        }
        Header r;
        try {
          r = verify(l);
        } catch (IllegalArgumentException e) {
          continue;
        }
        if ("event".equals(r.op()) && pending.contains(r.seq())) {
          out.write(l);
          out.write('\n');
        }
      }
    }
    try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      c.force(true);
    }
    fileLock.release();
    channel.close();
    try {
      Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
    }
    channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    fileLock = channel.tryLock();
    channel.position(channel.size());
  }

  private void ensureOpen() {
    if (closed) {
      throw new WalException("write-ahead log " + path + " is closed", null);
    }
  }

  /** Forces what is written to disk and releases the file. Idempotent. */
  @Override
  public void close() {
    if (flusher != null) {
      flusher.shutdownNow();
    }
    List<Waiter> ready = List.of();
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      if (channel != null && channel.isOpen()) {
        force();
      }
      ready = takeFlushed();
    } catch (IOException e) {
      LOG.warn("forcing {} on close failed: {}", path, e.toString());
      ready = failWaiters(e);
    } finally {
      closeQuietly();
      lock.unlock();
    }
    complete(ready);
  }

  private void closeQuietly() {
    try {
      if (fileLock != null && fileLock.isValid()) {
        fileLock.release();
      }
      if (channel != null) {
        channel.close();
      }
    } catch (IOException e) {
      // closing anyway
    }
  }
}
