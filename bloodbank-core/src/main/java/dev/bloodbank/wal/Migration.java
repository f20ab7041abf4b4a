package dev.bloodbank.wal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.Comparator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What is at a log's path before it is opened as a directory of segments: a log in the single-file
 * format of Bloodbank 0.1 is migrated (its pending events into one segment; the old file is removed
 * only once the directory has taken its place), a plain JSONL log as the Python services write one
 * is refused with how to import it, anything else is refused and left alone.
 *
 * <p>Crash-safe: the new directory is built beside the file ({@code <path>.migrating}), the file is
 * renamed to {@code <path>.v0}, the directory to {@code <path>}, then {@code <path>.v0} is deleted;
 * an open after a crash at any step finishes or restarts the migration.
 */
final class Migration {
  private static final Logger LOG = LoggerFactory.getLogger(Migration.class);
  private static final JsonFactory JSON = new JsonFactory();

  private Migration() {}

  static void finishOrStart(Path dir, boolean readOnly, boolean posix) throws IOException {
    Path migrating = sibling(dir, ".migrating");
    Path old = sibling(dir, ".v0");
    LogFiles.refuseLink(dir, "write-ahead log");
    boolean file = Files.exists(dir, LinkOption.NOFOLLOW_LINKS) && LogFiles.isRegularFile(dir);
    boolean gone = !Files.exists(dir, LinkOption.NOFOLLOW_LINKS);
    if (readOnly) {
      if (file) {
        describe(dir, true);
      }
      return;
    }
    if (gone && Files.isDirectory(migrating) && Files.exists(old)) {
      // Crashed between the two renames: the directory is complete.
      finish(dir, migrating, old);
      return;
    }
    if (Files.isDirectory(migrating)) {
      deleteTree(migrating); // an unfinished migration: start it again
    }
    if (!file) {
      if (Files.exists(old) && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        LogFiles.delete(old, dir.getParent());
      }
      return;
    }
    describe(dir, false);
    migrate(dir, migrating, old, posix);
  }

  /**
   * Says what the file at the log's path is: returns for a 0.1 log (to migrate), throws for
   * anything else, and for a 0.1 log when reading only.
   */
  private static void describe(Path file, boolean readOnly) throws IOException {
    byte[] first = firstLine(file);
    if (first.length > 0 && WalFormat.isRecordLine(first)) {
      if (readOnly) {
        throw new WalException(
            file
                + " is a write-ahead log in the single-file format of Bloodbank 0.1; open it for"
                + " writing once (it is migrated to a directory of segments) before reading it",
            null);
      }
      return;
    }
    if (isPlainEvent(first)) {
      throw new WalException(
          file
              + " is a plain JSONL log (one event per line, as the Python services write one),"
              + " not a Bloodbank write-ahead log; import its events into a log with `bb wal"
              + " import "
              + file
              + " <log directory>` or WriteAheadLog.importPlain(...)",
          null);
    }
    throw new WalException(
        file
            + " is not a Bloodbank write-ahead log; it is left as it is. Give the log another path",
        null);
  }

  private static byte[] firstLine(Path file) throws IOException {
    try (FileChannel c = LogFiles.open(file, StandardOpenOption.READ)) {
      byte[][] first = {new byte[0]};
      LineReader.End end =
          LineReader.read(
              c,
              Math.min(c.size(), 1 << 20),
              (line, offset, lineNo) -> {
                first[0] = line;
                return false;
              });
      if (!end.stopped() && end.tornBytes() > 0) {
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(end.tornBytes(), 1 << 20));
        c.read(b, 0);
        return java.util.Arrays.copyOf(b.array(), b.position());
      }
      return first[0];
    }
  }

  /** Whether a line is one event envelope: a JSON object with an event id. */
  static boolean isPlainEvent(byte[] line) {
    try (JsonParser p = JSON.createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return false;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if ((name.equals("event_id") || name.equals("id")) && v == JsonToken.VALUE_STRING) {
          return true;
        }
        p.skipChildren();
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  private static void migrate(Path dir, Path migrating, Path old, boolean posix)
      throws IOException {
    try (FileChannel c = LogFiles.open(dir, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      FileLock lock = c.tryLock();
      if (lock == null) {
        throw new WalException(
            "write-ahead log " + dir + " is held by another process; one writer at a time", null);
      }
      long size = c.size();
      // One bit per sequence number: the 0.1 format numbers events 1, 2, 3, ...
      BitSet pending = new BitSet();
      long[] last = {0};
      LineReader.read(
          c,
          size,
          (line, offset, lineNo) -> {
            try {
              WalFormat.Header h = WalFormat.verify(line);
              if (h.seq() > Integer.MAX_VALUE) {
                return true;
              }
              last[0] = Math.max(last[0], h.seq());
              if (h.op().equals("event")) {
                pending.set((int) h.seq());
              } else {
                pending.clear((int) h.seq());
              }
            } catch (IllegalArgumentException e) {
              LOG.error(
                  "{} line {} is corrupt ({}); it is not migrated", dir, lineNo, e.getMessage());
            }
            return true;
          });
      LogFiles.directory(migrating, posix);
      int count = pending.cardinality();
      if (count > 0) {
        long first = pending.nextSetBit(0);
        Path segment = migrating.resolve(WalFormat.segmentName(first));
        try (FileChannel out = LogFiles.createNew(segment, posix)) {
          long[] pos = {0};
          write(out, pos, WalFormat.headerLine(first, null));
          LineReader.read(
              c,
              size,
              (line, offset, lineNo) -> {
                try {
                  WalFormat.Header h = WalFormat.verify(line);
                  if (h.op().equals("event")
                      && h.seq() <= Integer.MAX_VALUE
                      && pending.get((int) h.seq())) {
                    pending.clear((int) h.seq()); // once, should the file hold it twice
                    write(out, pos, line);
                    write(out, pos, new byte[] {'\n'});
                  }
                } catch (IllegalArgumentException e) {
                  // reported above
                }
                return true;
              });
          out.force(true);
        }
      }
      LogFiles.fsyncDirectory(migrating);
      lock.release();
      Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
      LogFiles.fsyncDirectory(dir.getParent());
      LOG.info(
          "migrated write-ahead log {} from the single-file format: {} event(s) awaiting"
              + " confirmation (of {} in all)",
          dir,
          count,
          last[0]);
    }
    finish(dir, migrating, old);
  }

  private static void finish(Path dir, Path migrating, Path old) throws IOException {
    Files.move(migrating, dir, StandardCopyOption.ATOMIC_MOVE);
    LogFiles.fsyncDirectory(dir.getParent());
    LogFiles.delete(old, dir.getParent());
  }

  private static void write(FileChannel c, long[] pos, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) {
      pos[0] += c.write(b, pos[0]);
    }
  }

  static Path sibling(Path p, String suffix) {
    return p.resolveSibling(p.getFileName() + suffix);
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
