package dev.bloodbank.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A segmented, append-only log of events awaiting the broker's confirm: a directory of segment
 * files, as {@code docs/wal-format.md} describes.
 *
 * <p>Events are appended to the active segment, which rolls to a new one at {@link
 * WalOptions#segmentBytes()} or {@link WalOptions#segmentAge()}; a done mark goes to the segment of
 * its event, and a segment whose events are all done is deleted by the log's own thread. Nothing
 * rewrites the whole backlog, and memory stays flat whatever its size: one bit per pending event,
 * and reads stream the files ({@link #forEachPending}).
 *
 * <p>On {@link #open}: a torn last line (a crash mid-write) is truncated with a warning naming the
 * file and byte offset; a corrupt complete line is never replayed: it is logged as an error naming
 * the file and line, copied to a new owner-only {@code quarantine-*.corrupt} file in the log's
 * directory, and removed. A file that is not a Bloodbank log, a symbolic link, or a file or
 * directory others may read is refused and left as it is. A plain JSONL log as the Python services
 * write one is refused with how to {@linkplain #importPlain import} it; a log in the single-file
 * format of 0.1 is migrated. One process holds a log at a time, for its whole life ({@code LOCK}).
 * {@link #openReadOnly} reads without changing anything.
 *
 * <p>Thread-safe.
 */
public final class WriteAheadLog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);
  private static final AtomicInteger THREADS = new AtomicInteger();
  private static final long MAINTENANCE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final WalOptions options;
  private final Path dir;
  private final boolean readOnly;
  private final boolean posix;
  private final LogFiles.@Nullable Lock fileLock;
  // Appends, rolls and the set of segments; never held while reading a file for a reader.
  private final ReentrantLock lock = new ReentrantLock();
  private final ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
  private final ConcurrentLinkedQueue<Segment> emptied = new ConcurrentLinkedQueue<>();
  private final AtomicInteger pending = new AtomicInteger();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private final List<String> recoveryProblems = new ArrayList<>();
  private final @Nullable ScheduledExecutorService maintenance;
  private @Nullable Segment active; // guarded by lock
  private long nextSeq = 1; // guarded by lock
  private long writtenSeq; // guarded by lock
  private long flushedSeq; // guarded by lock
  private @Nullable IOException flushFailure; // guarded by lock
  private volatile boolean closed;

  private WriteAheadLog(WalOptions options, boolean readOnly) {
    this.options = options;
    this.dir = options.path().toAbsolutePath();
    this.readOnly = readOnly;
    LogFiles.@Nullable Lock l = null;
    try {
      this.posix = LogFiles.posix(dir);
      Migration.finishOrStart(dir, readOnly, posix);
      if (readOnly) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
          throw new WalException("no write-ahead log at " + dir, null);
        }
        LogFiles.refuseLink(dir, "log directory");
      } else {
        LogFiles.directory(dir, posix);
        l = LogFiles.Lock.acquire(dir, posix);
      }
      this.fileLock = l;
      recover();
    } catch (IOException e) {
      closeQuietly(l);
      throw new WalException("cannot open write-ahead log " + dir + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(l);
      throw e;
    }
    if (readOnly) {
      this.maintenance = null;
    } else {
      int n = THREADS.incrementAndGet();
      this.maintenance =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "bloodbank-wal-flush" + (n == 1 ? "" : "-" + n));
                t.setDaemon(true);
                return t;
              });
      long every =
          options.fsync().eachRecord()
              ? MAINTENANCE_NANOS
              : Math.min(MAINTENANCE_NANOS, options.fsync().maxDelay().toNanos());
      maintenance.scheduleWithFixedDelay(this::maintain, every, every, TimeUnit.NANOSECONDS);
    }
  }

  /**
   * Opens (creating if needed) a log for writing, recovering what an earlier process left in it.
   *
   * @param options the directory, fsync policy and segment limits
   * @return the log
   * @throws WalException if the log is readable by others, held by another process, is not a
   *     Bloodbank log (a plain JSONL log names how to import it), or cannot be read or written
   */
  public static WriteAheadLog open(WalOptions options) {
    return new WriteAheadLog(options, false);
  }

  /**
   * Opens a log to read it without changing anything: no lock is taken, torn tails and corrupt
   * lines are reported in {@link #recoveryProblems()} but left as they are, nothing is deleted or
   * migrated. Appending or marking done fails.
   *
   * @param options where the log is
   * @return the log
   * @since 0.2.0
   */
  public static WriteAheadLog openReadOnly(WalOptions options) {
    return new WriteAheadLog(options, true);
  }

  // ---- recovery ----------------------------------------------------------------------------

  private void recover() throws IOException {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (name.endsWith(".tmp")) {
          // A segment or import that never got its name: nothing in it was acknowledged.
          if (!readOnly) {
            LogFiles.refuseLink(p, "log file");
            Files.delete(p);
          }
        } else if (WalFormat.firstSeqOf(name) > 0) {
          files.add(p);
        }
      }
    }
    files.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
    long maxSeq = 0;
    for (Path p : files) {
      Segment s = recoverSegment(p);
      segments.put(s.firstSeq, s);
      maxSeq = Math.max(maxSeq, s.lastSeq());
      pending.addAndGet(s.pendingCount());
    }
    nextSeq = maxSeq + 1;
    writtenSeq = flushedSeq = maxSeq;
    if (!readOnly) {
      // The newest segment goes on taking events unless it is full or an import.
      Map.Entry<Long, Segment> last = segments.lastEntry();
      if (last != null
          && !last.getValue().imported
          && last.getValue().size() < options.segmentBytes()) {
        active = last.getValue();
      }
      for (Segment s : segments.values()) {
        if (s != active && s.pendingCount() == 0) {
          deleteSegment(s);
        }
      }
      LogFiles.fsyncDirectory(dir);
    }
    if (pending.get() > 0) {
      LOG.info(
          "write-ahead log {} recovered: {} event(s) awaiting confirmation in {} segment(s)",
          dir,
          pending.get(),
          segments.size());
    }
  }

  private Segment recoverSegment(Path file) throws IOException {
    LogFiles.checkFile(file, posix);
    long firstSeq = WalFormat.firstSeqOf(file.getFileName().toString());
    FileChannel c =
        readOnly
            ? LogFiles.open(file, StandardOpenOption.READ)
            : LogFiles.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      long size = c.size();
      WalFormat.SegmentHeader[] header = new WalFormat.SegmentHeader[1];
      List<long[]> corrupt = new ArrayList<>();
      Segment[] seg = new Segment[1];
      LineReader.End end =
          LineReader.read(
              c,
              size,
              (line, offset, lineNo) -> {
                if (lineNo == 1) {
                  header[0] = WalFormat.parseHeader(line);
                  if (header[0] == null || header[0].firstSeq() != firstSeq) {
                    throw notALog(file, "its first line is not the header of a segment");
                  }
                  if (header[0].version() > WalFormat.VERSION) {
                    throw notALog(
                        file,
                        "it is format version "
                            + header[0].version()
                            + ", newer than this Bloodbank reads ("
                            + WalFormat.VERSION
                            + ")");
                  }
                  seg[0] =
                      new Segment(
                          firstSeq,
                          file,
                          header[0].importedFrom() != null,
                          size,
                          readOnly ? null : c);
                  return true;
                }
                String problem = apply(seg[0], line, offset);
                if (problem != null) {
                  corrupt.add(new long[] {lineNo, offset});
                  LOG.error(
                      "write-ahead log {} line {} (byte offset {}) is corrupt ({}); it is {}and will"
                          + " not be replayed",
                      file,
                      lineNo,
                      offset,
                      problem,
                      readOnly ? "left as it is (read-only) " : "quarantined ");
                  recoveryProblems.add(file + " line " + lineNo + ": " + problem);
                }
                return true;
              });
      if (seg[0] == null) {
        throw notALog(file, size == 0 ? "it is empty" : "it has no complete first line");
      }
      if (end.tornBytes() > 0) {
        long at = end.completeUpTo();
        LOG.warn(
            "write-ahead log {} ends with a torn record ({} bytes at byte offset {}){}",
            file,
            end.tornBytes(),
            at,
            readOnly ? "" : "; truncating it");
        recoveryProblems.add(
            file + " torn record " + (readOnly ? "found" : "truncated") + " at byte offset " + at);
        if (!readOnly) {
          c.truncate(at);
          c.force(true);
          seg[0].truncatedTo(at);
        }
      }
      Segment s = seg[0];
      if (!corrupt.isEmpty() && !readOnly) {
        s = quarantine(s, c, corrupt, end.completeUpTo());
      }
      if (readOnly) {
        c.close();
      }
      return s;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /** Applies one record line of a segment to its pending bits; returns what is wrong, or null. */
  private static @Nullable String apply(Segment s, byte[] line, long offset) {
    WalFormat.Header h;
    try {
      h = WalFormat.verify(line);
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
    if (h.seq() < s.firstSeq) {
      return "sequence number " + h.seq() + " comes before the segment's first, " + s.firstSeq;
    }
    if (h.op().equals("event")) {
      s.addEvent(h.seq());
      s.offset(h.seq(), offset);
    } else {
      s.done(h.seq());
    }
    return null;
  }

  /** Recomputes a segment's pending bits from its file (after recovery read it once). */
  private static void replayInto(Segment s, FileChannel c, long limit) throws IOException {
    LineReader.read(
        c,
        limit,
        (line, offset, lineNo) -> {
          if (lineNo > 1) {
            apply(s, line, offset);
          }
          return true;
        });
  }

  private static WalException notALog(Path file, String why) {
    return new WalException(
        file
            + " is not a Bloodbank write-ahead log segment ("
            + why
            + "); it is left as it is. Move it out of the log's directory",
        null);
  }

  /**
   * Copies the corrupt lines of a segment to a new quarantine file and rewrites the segment without
   * them (atomically: a new file, forced, renamed over the old one, directory forced).
   */
  private Segment quarantine(Segment s, FileChannel c, List<long[]> corrupt, long limit)
      throws IOException {
    java.util.Set<Long> bad = new java.util.HashSet<>();
    for (long[] x : corrupt) {
      bad.add(x[0]);
    }
    Path aside =
        dir.resolve(
            "quarantine-"
                + s.path.getFileName()
                + "-"
                + System.currentTimeMillis()
                + "-"
                + UUID.randomUUID().toString().substring(0, 8)
                + ".corrupt");
    Path tmp = dir.resolve(s.path.getFileName() + ".rewrite.tmp");
    Files.deleteIfExists(tmp);
    try (FileChannel q = LogFiles.createNew(aside, posix);
        FileChannel out = LogFiles.createNew(tmp, posix)) {
      long[] qPos = {0};
      long[] outPos = {0};
      LineReader.read(
          c,
          limit,
          (line, offset, lineNo) -> {
            if (bad.contains(lineNo)) {
              write(
                  q,
                  qPos,
                  ("# " + s.path + " line " + lineNo + "\n").getBytes(StandardCharsets.UTF_8));
              write(q, qPos, line);
              write(q, qPos, new byte[] {'\n'});
            } else {
              write(out, outPos, line);
              write(out, outPos, new byte[] {'\n'});
            }
            return true;
          });
      q.force(true);
      out.force(true);
    }
    c.close();
    try {
      Files.move(tmp, s.path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, s.path, StandardCopyOption.REPLACE_EXISTING);
    }
    LogFiles.fsyncDirectory(dir);
    FileChannel reopened = LogFiles.open(s.path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    Segment fresh = new Segment(s.firstSeq, s.path, s.imported, reopened.size(), reopened);
    replayInto(fresh, reopened, reopened.size());
    return fresh;
  }

  private static void write(FileChannel c, long[] pos, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) {
      pos[0] += c.write(b, pos[0]);
    }
  }

  // ---- appending ---------------------------------------------------------------------------

  /**
   * Appends an event and returns once it is on disk, as the fsync policy says.
   *
   * @param eventId the event's id
   * @param eventType the event's type
   * @param eventJson the event's JSON (one object; line breaks are taken out)
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
          "append to write-ahead log " + dir + " failed: " + e.getCause(), e.getCause());
    }
  }

  /**
   * Appends an event without waiting for the disk: the future completes with the record's sequence
   * number once the record is forced to disk (by its own fsync, or its group's with a batched
   * policy). This lets one thread keep a whole fsync group busy. Completion runs outside the log's
   * lock, on the appending thread or the log's own thread.
   *
   * @param eventId the event's id
   * @param eventType the event's type
   * @param eventJson the event's JSON: one object; a pretty-printed one is made compact, since a
   *     record is one line
   * @return a future completed with the sequence number once durable, or exceptionally with a
   *     {@link WalException}; the caller must not report success before it completes
   */
  public CompletableFuture<Long> appendAsync(UUID eventId, String eventType, byte[] eventJson) {
    if (eventJson.length > options.maxRecordBytes()) {
      return CompletableFuture.failedFuture(tooLarge(eventId, eventJson.length));
    }
    byte[] event;
    try {
      event = WalFormat.oneLine(eventJson);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(
          new WalException("event " + eventId + " cannot be logged: " + e.getMessage(), e));
    }
    CompletableFuture<Long> durable = new CompletableFuture<>();
    List<Waiter> ready;
    lock.lock();
    try {
      ensureWritable();
      if (flushFailure != null) {
        throw new WalException(
            "forcing " + dir + " to disk failed earlier: " + flushFailure.getMessage(),
            flushFailure);
      }
      long seq = nextSeq;
      Segment s = activeFor(seq);
      byte[] line = WalFormat.eventLine(seq, eventId, eventType, event);
      long offset;
      try {
        offset = s.append(line);
      } catch (IOException e) {
        if (e.getSuppressed().length > 0) {
          flushFailure = e; // the partial line could not be cut off: no append may follow it
        }
        throw e;
      }
      nextSeq++;
      s.addEvent(seq);
      s.offset(seq, offset);
      pending.incrementAndGet();
      writtenSeq = seq;
      waiters.add(new Waiter(seq, durable, null));
      if (options.fsync().eachRecord() || writtenSeq - flushedSeq >= options.fsync().maxRecords()) {
        force();
      }
      ready = takeFlushed();
    } catch (IOException e) {
      ready = failWaiters(e);
      durable.completeExceptionally(
          new WalException("append to write-ahead log " + dir + " failed: " + e.getMessage(), e));
    } catch (WalException e) {
      durable.completeExceptionally(e);
      ready = List.of();
    } finally {
      lock.unlock();
    }
    complete(ready);
    return durable;
  }

  private WalException tooLarge(UUID eventId, int bytes) {
    return new WalException(
        "event "
            + eventId
            + " is "
            + bytes
            + " bytes, over the write-ahead log's record limit of "
            + options.maxRecordBytes()
            + " bytes",
        null);
  }

  /** The segment to append {@code seq} to: the active one, or a new one when it is due. */
  private Segment activeFor(long seq) throws IOException {
    Segment s = active;
    if (s != null
        && s.size() < options.segmentBytes()
        && System.nanoTime() - s.createdNanos < options.segmentAge().toNanos()) {
      return s;
    }
    return roll(seq);
  }

  /**
   * Starts a new active segment whose first event is {@code firstSeq}: the old one is forced first
   * (its waiters complete), the new one is made under a temporary name, forced, renamed and its
   * directory entry forced, so a segment never exists without its header.
   */
  private Segment roll(long firstSeq) throws IOException {
    Segment old = active;
    if (old != null) {
      force();
      active = null;
      if (old.pendingCount() == 0) {
        emptied.add(old);
      }
    }
    Segment s = createSegment(firstSeq, null);
    active = s;
    return s;
  }

  private Segment createSegment(long firstSeq, @Nullable String importedFrom) throws IOException {
    Path file = dir.resolve(WalFormat.segmentName(firstSeq));
    Path tmp = dir.resolve(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    byte[] header = WalFormat.headerLine(firstSeq, importedFrom);
    try (FileChannel c = LogFiles.createNew(tmp, posix)) {
      long[] pos = {0};
      write(c, pos, header);
      c.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    LogFiles.fsyncDirectory(dir);
    FileChannel c = LogFiles.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    Segment s = new Segment(firstSeq, file, importedFrom != null, header.length, c);
    segments.put(firstSeq, s);
    return s;
  }

  /** An append waiting for the fsync that covers it. */
  private record Waiter(long seq, CompletableFuture<Long> future, @Nullable Throwable failure) {}

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
                    "forcing " + dir + " to disk failed: " + w.failure().getMessage(),
                    w.failure()));
      }
    }
  }

  /**
   * Tells {@code listener} how long each fsync of a record group took, in nanoseconds, for metrics.
   * It is called under the log's lock: it must be quick and never block nor throw.
   *
   * @param listener the listener, or null for none
   * @since 0.2.0
   */
  public void fsyncListener(@Nullable LongConsumer listener) {
    this.fsyncListener = listener;
  }

  private volatile @Nullable LongConsumer fsyncListener;

  /** Forces what is written to disk; call under the lock. */
  private void force() throws IOException {
    long upTo = writtenSeq;
    if (upTo == flushedSeq) {
      return;
    }
    Segment s = active;
    try {
      if (s != null) {
        long start = System.nanoTime();
        s.force();
        LongConsumer listener = fsyncListener;
        if (listener != null) {
          try {
            listener.accept(System.nanoTime() - start);
          } catch (RuntimeException e) {
            // Metrics only: the records are on disk all the same.
            LOG.debug("the fsync listener failed: {}", e.toString());
          }
        }
      }
    } catch (IOException e) {
      flushFailure = e;
      throw e;
    }
    flushedSeq = upTo;
  }

  /**
   * Records that the broker confirmed an event, so it is not replayed; once every event of a
   * segment is done, the log's own thread deletes that segment. Not forced to disk: if the mark is
   * lost in a power cut, the event is replayed once more with the same id. Never throws for a
   * sequence number the log does not hold (already done, or never logged).
   *
   * @param seq the sequence number {@link #append} returned
   */
  public void markDone(long seq) {
    if (closed || readOnly) {
      return;
    }
    Map.Entry<Long, Segment> e = segments.floorEntry(seq);
    if (e == null) {
      return;
    }
    Segment s = e.getValue();
    if (!s.done(seq)) {
      return;
    }
    pending.decrementAndGet();
    try {
      s.append(WalFormat.doneLine(seq));
    } catch (IOException x) {
      LOG.warn(
          "could not mark record {} of {} done ({}); it will be replayed", seq, dir, x.toString());
    }
    if (s.pendingCount() == 0 && s != active) {
      emptied.add(s);
    }
  }

  /** On the log's own thread: group fsyncs, deleting done segments, rolling an idle active one. */
  private void maintain() {
    List<Waiter> ready = List.of();
    lock.lock();
    try {
      if (closed) {
        return;
      }
      if (writtenSeq > flushedSeq) {
        force();
      }
      ready = takeFlushed();
      // An idle active segment whose events are all done goes too, once it is old enough.
      Segment a = active;
      if (a != null
          && a.pendingCount() == 0
          && writtenSeq == flushedSeq
          && System.nanoTime() - a.createdNanos >= options.segmentAge().toNanos()) {
        active = null;
        emptied.add(a);
      }
    } catch (IOException e) {
      LOG.error("forcing write-ahead log {} to disk failed: {}", dir, e.toString());
      ready = failWaiters(e);
    } finally {
      lock.unlock();
    }
    complete(ready);
    Segment s;
    while ((s = emptied.poll()) != null) {
      if (s.pendingCount() == 0 && s != active && !s.isDeleted()) {
        try {
          deleteSegment(s);
        } catch (IOException e) {
          LOG.warn("could not delete done segment {}: {}", s.path, e.toString());
        }
      }
    }
  }

  private void deleteSegment(Segment s) throws IOException {
    segments.remove(s.firstSeq, s);
    s.close(true);
    // The file goes first: a crash before the directory is forced brings back a segment whose
    // events are all done, which the next open deletes again.
    LogFiles.delete(s.path, dir);
  }

  // ---- reading -----------------------------------------------------------------------------

  /**
   * Visits the pending events with sequence numbers from {@code fromSeq} on, oldest first, reading
   * the files as it goes: memory stays at one read block whatever the backlog. Appends go on
   * meanwhile; an event confirmed while the read passes it may still be visited.
   *
   * @param fromSeq the first sequence number of interest (1 or 0 for all)
   * @param visitor takes each event; returns false to stop
   * @throws WalException if a segment cannot be read
   * @since 0.2.0
   */
  public void forEachPending(long fromSeq, Predicate<WalRecord> visitor) {
    ensureOpen();
    Long start = segments.floorKey(fromSeq);
    Map<Long, Segment> from = start == null ? segments : segments.tailMap(start, true);
    for (Segment s : new ArrayList<>(from.values())) {
      if (s.pendingCount() == 0 || s.isDeleted()) {
        continue;
      }
      long limit = s.size();
      // Near the first wanted record, so that a drain going on from where it stopped does not read
      // the segment from its top each time.
      long begin = s.readFrom(fromSeq);
      boolean[] stop = {false};
      try {
        // A channel of its own: a reader interrupted mid-read closes the channel it reads with.
        FileChannel c = LogFiles.open(s.path, StandardOpenOption.READ);
        try {
          LineReader.read(
              c,
              begin,
              limit,
              (line, offset, lineNo) -> {
                if (offset == 0) {
                  return true; // the header
                }
                WalFormat.Header h;
                try {
                  h = WalFormat.verify(line);
                } catch (IllegalArgumentException e) {
                  return true; // reported by recovery
                }
                if (!h.op().equals("event") || h.seq() < fromSeq || !s.isPending(h.seq())) {
                  return true;
                }
                if (!visitor.test(WalFormat.toRecord(h, line))) {
                  stop[0] = true;
                  return false;
                }
                return true;
              });
        } finally {
          c.close();
        }
      } catch (NoSuchFileException | java.nio.channels.ClosedChannelException e) {
        continue; // deleted meanwhile: its events are done
      } catch (IOException e) {
        throw new WalException("cannot read write-ahead log " + s.path + ": " + e.getMessage(), e);
      }
      if (stop[0]) {
        return;
      }
    }
  }

  /**
   * Returns the events not confirmed yet, oldest first. Holds them all in memory: for a backlog of
   * unknown size use {@link #forEachPending}.
   *
   * @return the pending records
   * @throws WalException if the files cannot be read
   */
  public List<WalRecord> pending() {
    List<WalRecord> out = new ArrayList<>(Math.min(pending.get(), 1 << 16));
    forEachPending(0, out::add);
    return out;
  }

  /**
   * Returns how many events await confirmation. Never blocks.
   *
   * @return the count
   */
  public int pendingCount() {
    return pending.get();
  }

  /**
   * Returns the size of the segments that still hold records awaiting confirmation: what a replay
   * reads, and an upper bound of those records' own size (a segment goes once all of its records
   * are done). For metrics; it takes each segment's lock briefly.
   *
   * @return bytes on disk
   * @since 0.2.0
   */
  public long pendingBytes() {
    long bytes = 0;
    for (Segment s : segments.values()) {
      if (s.pendingCount() > 0) {
        bytes += s.size();
      }
    }
    return bytes;
  }

  /**
   * Returns what recovery found when the log was opened: truncated torn records and corrupt lines
   * quarantined, each naming the file and line or byte offset.
   *
   * @return the problems; empty for a clean log
   */
  public List<String> recoveryProblems() {
    return List.copyOf(recoveryProblems);
  }

  /**
   * Returns the log's directory.
   *
   * @return the path
   */
  public Path path() {
    return dir;
  }

  /**
   * Returns the segment files the log holds now, oldest first.
   *
   * @return the files
   * @since 0.2.0
   */
  public List<Path> segments() {
    List<Path> out = new ArrayList<>();
    for (Segment s : segments.values()) {
      out.add(s.path);
    }
    return out;
  }

  /**
   * Deletes at once the segments whose events are all confirmed (the log's own thread does it
   * within a few milliseconds anyway).
   */
  public void compact() {
    ensureWritable();
    for (Segment s : segments.values()) {
      if (s.pendingCount() == 0 && s != active) {
        emptied.add(s);
      }
    }
    maintain();
  }

  // ---- importing ---------------------------------------------------------------------------

  /** What {@link #importPlain} did. */
  public record ImportResult(int imported, List<String> skipped, @Nullable Path segment) {
    /** Checks the fields. */
    public ImportResult {
      skipped = List.copyOf(skipped);
    }
  }

  /**
   * Imports a plain JSONL log as the Python services write one ({@code raw_voice_ingest.jsonl}: one
   * event envelope per line, v2 with {@code event_id} or v1 with {@code id}): each event becomes a
   * pending record with its id unchanged, in one new segment that appears whole or not at all.
   * Importing the same file again (same path and content) imports nothing. The source is not
   * changed.
   *
   * @param plain the plain log
   * @return how many events were imported, and the lines skipped (blank lines are not), each naming
   *     its line number and what is wrong
   * @throws WalException if the file cannot be read, or changed while it was imported
   * @since 0.2.0
   */
  public ImportResult importPlain(Path plain) {
    ensureWritable();
    try {
      return PlainImport.run(this, plain);
    } catch (IOException e) {
      throw new WalException("cannot import " + plain + " into " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Opens the log, imports a plain JSONL log into it, and closes it.
   *
   * @param plain the plain log
   * @param into the log's options
   * @return what was imported
   * @since 0.2.0
   */
  public static ImportResult importPlain(Path plain, WalOptions into) {
    try (WriteAheadLog wal = open(into)) {
      return wal.importPlain(plain);
    }
  }

  /** Whether a segment already holds the import of this source. */
  boolean imported(String source) throws IOException {
    for (Segment s : segments.values()) {
      if (s.imported) {
        byte[][] first = {null};
        try (FileChannel c = LogFiles.open(s.path, StandardOpenOption.READ)) {
          LineReader.read(
              c,
              Math.min(s.size(), 1 << 16),
              (line, offset, lineNo) -> {
                first[0] = line;
                return false;
              });
        }
        WalFormat.SegmentHeader h = first[0] == null ? null : WalFormat.parseHeader(first[0]);
        if (h != null && source.equals(h.importedFrom())) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Reserves {@code n} sequence numbers for an import; the active segment stops taking events so
   * that segments keep ascending ranges.
   */
  long reserve(int n) throws IOException {
    lock.lock();
    try {
      ensureWritable();
      Segment a = active;
      if (a != null) {
        force();
        active = null;
        if (a.pendingCount() == 0) {
          emptied.add(a);
        }
      }
      long first = nextSeq;
      nextSeq += n;
      return first;
    } finally {
      lock.unlock();
    }
  }

  /** Gives a complete import segment, written under a temporary name, its name. */
  Path commitImport(long firstSeq, Path tmp, int count) throws IOException {
    Path file = dir.resolve(WalFormat.segmentName(firstSeq));
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    LogFiles.fsyncDirectory(dir);
    FileChannel c = LogFiles.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    Segment s = new Segment(firstSeq, file, true, c.size(), c);
    for (long seq = firstSeq; seq < firstSeq + count; seq++) {
      s.addEvent(seq);
    }
    segments.put(firstSeq, s);
    pending.addAndGet(count);
    return file;
  }

  Path directory() {
    return dir;
  }

  boolean posixFiles() {
    return posix;
  }

  int maxRecordBytes() {
    return options.maxRecordBytes();
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  private void ensureOpen() {
    if (closed) {
      throw new WalException("write-ahead log " + dir + " is closed", null);
    }
  }

  private void ensureWritable() {
    ensureOpen();
    if (readOnly) {
      throw new WalException("write-ahead log " + dir + " was opened read-only", null);
    }
  }

  /** Forces what is written to disk, closes the files and releases the log. Idempotent. */
  @Override
  public void close() {
    if (maintenance != null) {
      maintenance.shutdownNow();
    }
    List<Waiter> ready = List.of();
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      if (!readOnly) {
        force();
        // Done marks are not forced as they are written; a clean close keeps them too.
        for (Segment s : segments.values()) {
          s.force();
        }
      }
      ready = takeFlushed();
    } catch (IOException e) {
      LOG.warn("forcing {} on close failed: {}", dir, e.toString());
      ready = failWaiters(e);
    } finally {
      for (Segment s : segments.values()) {
        s.close(false);
      }
      closeQuietly(fileLock);
      lock.unlock();
    }
    complete(ready);
  }

  private static void closeQuietly(@Nullable AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      // closing anyway
    }
  }

  @Override
  public String toString() {
    return "WriteAheadLog{"
        + dir
        + (readOnly ? ", read-only" : "")
        + ", pending="
        + pending.get()
        + "}";
  }

  static String now() {
    return Instant.now().toString();
  }
}
