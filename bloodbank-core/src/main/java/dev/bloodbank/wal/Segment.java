package dev.bloodbank.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.BitSet;
import org.jspecify.annotations.Nullable;

/**
 * One file of a log: the events with sequence numbers from {@link #firstSeq} on, and the done marks
 * of those events. Which of its events are still pending is one bit each, so memory stays small
 * whatever the backlog. Thread-safe: the pending bits under this object's monitor, writes under
 * {@link #writeLock}.
 */
final class Segment {
  final long firstSeq;
  final Path path;
  final boolean imported;
  final long createdNanos = System.nanoTime();
  final Object writeLock = new Object();

  // An event record's byte offset every INDEX_EVERY bytes, so a read from a sequence number starts
  // near it instead of at the top of the file; about 16 bytes per 64 KB of segment.
  private static final long INDEX_EVERY = 1 << 16;
  private long[] indexSeq = new long[8]; // guarded by this
  private long[] indexOffset = new long[8]; // guarded by this
  private int indexed; // guarded by this

  private final BitSet pending = new BitSet();
  private int pendingCount; // guarded by this
  private long lastSeq; // guarded by this
  private volatile long size; // bytes written; guarded by writeLock for writes
  private volatile @Nullable FileChannel channel;
  private volatile boolean deleted;

  Segment(long firstSeq, Path path, boolean imported, long size, @Nullable FileChannel channel) {
    this.firstSeq = firstSeq;
    this.path = path;
    this.imported = imported;
    this.size = size;
    this.channel = channel;
    this.lastSeq = firstSeq - 1;
  }

  /** Marks an event of this segment pending; false when it already was. */
  synchronized boolean addEvent(long seq) {
    int i = index(seq);
    lastSeq = Math.max(lastSeq, seq);
    if (pending.get(i)) {
      return false;
    }
    pending.set(i);
    pendingCount++;
    return true;
  }

  /** Marks an event done; false when it was not pending here. */
  synchronized boolean done(long seq) {
    if (seq < firstSeq || seq - firstSeq > Integer.MAX_VALUE) {
      return false;
    }
    int i = index(seq);
    if (!pending.get(i)) {
      return false;
    }
    pending.clear(i);
    pendingCount--;
    return true;
  }

  /** Notes where an event record starts, as the sparse index needs it. Records come in order. */
  synchronized void offset(long seq, long offset) {
    long last = indexed == 0 ? 0 : indexOffset[indexed - 1];
    if (offset - last < INDEX_EVERY || (indexed > 0 && seq <= indexSeq[indexed - 1])) {
      return;
    }
    if (indexed == indexSeq.length) {
      indexSeq = java.util.Arrays.copyOf(indexSeq, indexed * 2);
      indexOffset = java.util.Arrays.copyOf(indexOffset, indexed * 2);
    }
    indexSeq[indexed] = seq;
    indexOffset[indexed] = offset;
    indexed++;
  }

  /**
   * Returns a byte offset at or before the record of {@code seq}, at a line start: where a read for
   * events from {@code seq} on can begin. 0 (the header) when nothing closer is known.
   */
  synchronized long readFrom(long seq) {
    int i = java.util.Arrays.binarySearch(indexSeq, 0, indexed, seq);
    if (i < 0) {
      i = -i - 2; // the greatest indexed sequence number below seq
    }
    return i < 0 ? 0 : indexOffset[i];
  }

  synchronized boolean isPending(long seq) {
    return seq >= firstSeq && seq - firstSeq <= Integer.MAX_VALUE && pending.get(index(seq));
  }

  synchronized int pendingCount() {
    return pendingCount;
  }

  synchronized long lastSeq() {
    return lastSeq;
  }

  synchronized void lastSeq(long seq) {
    lastSeq = Math.max(lastSeq, seq);
  }

  private int index(long seq) {
    long i = seq - firstSeq;
    if (i < 0 || i > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "sequence number " + seq + " is not in segment " + path.getFileName());
    }
    return (int) i;
  }

  long size() {
    return size;
  }

  @Nullable FileChannel channel() {
    return channel;
  }

  boolean isDeleted() {
    return deleted;
  }

  /**
   * Appends a whole line at the end. On failure (a full disk) the partial line is cut off again, so
   * the next record does not glue onto it.
   *
   * @return the byte offset the line starts at
   * @throws IOException when the line is not written; when cutting it off failed too, the error
   *     carries that as suppressed and the caller must stop appending
   */
  long append(byte[] line) throws IOException {
    synchronized (writeLock) {
      FileChannel c = writable();
      long start = size;
      ByteBuffer buf = ByteBuffer.wrap(line);
      try {
        long pos = start;
        while (buf.hasRemaining()) {
          pos += c.write(buf, pos);
        }
      } catch (IOException e) {
        try {
          c.truncate(start);
        } catch (IOException again) {
          e.addSuppressed(again);
        }
        throw e;
      }
      size = start + line.length;
      return start;
    }
  }

  void force() throws IOException {
    synchronized (writeLock) {
      if (channel != null) {
        writable().force(false);
      }
    }
  }

  /** The file's size after recovery cut a torn tail off. */
  void truncatedTo(long bytes) {
    synchronized (writeLock) {
      size = bytes;
    }
  }

  /**
   * The channel to write with. An interrupt of a thread in a channel operation closes the channel
   * (it is interruptible): the write of that thread fails, and the next one opens the file again,
   * so one interrupted caller cannot stop the log. Call under {@link #writeLock}.
   */
  private FileChannel writable() throws IOException {
    FileChannel c = channel;
    if (deleted || c == null) {
      throw new IOException("segment " + path.getFileName() + " is closed");
    }
    if (!c.isOpen()) {
      c =
          LogFiles.open(
              path, java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE);
      channel = c;
    }
    return c;
  }

  /** Closes the file; done marks can no longer be written (the segment is gone or done). */
  void close(boolean markDeleted) {
    synchronized (writeLock) {
      if (markDeleted) {
        deleted = true;
      }
      FileChannel c = channel;
      channel = null;
      if (c != null) {
        try {
          c.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
    }
  }
}
