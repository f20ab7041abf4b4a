package dev.bloodbank.archive;

import dev.bloodbank.BloodbankException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.OptionalLong;

/** {@link OffsetStore#file(Path)}: write a temporary file, fsync, rename, fsync the directory. */
final class FileOffsetStore implements OffsetStore {
  private static final int MAX_BYTES = 64;

  private final Path file;
  private final Path tmp;

  FileOffsetStore(Path file) {
    Objects.requireNonNull(file, "file");
    this.file = file.toAbsolutePath();
    Path name = this.file.getFileName();
    if (name == null) {
      throw new IllegalArgumentException("offset file must name a file, was " + file);
    }
    this.tmp = this.file.resolveSibling(name + ".tmp");
  }

  @Override
  public synchronized OptionalLong load() {
    String text;
    try {
      byte[] bytes = Files.readAllBytes(file);
      if (bytes.length > MAX_BYTES) {
        throw new BloodbankException(
            "offset file "
                + file
                + " holds "
                + bytes.length
                + " bytes, more than an offset ("
                + MAX_BYTES
                + " at most): is it another file?");
      }
      text = new String(bytes, StandardCharsets.US_ASCII).trim();
    } catch (NoSuchFileException e) {
      return OptionalLong.empty();
    } catch (IOException e) {
      throw new BloodbankException("cannot read offset file " + file + ": " + e, e);
    }
    try {
      long offset = Long.parseLong(text);
      if (offset < 0) {
        throw new NumberFormatException("negative");
      }
      return OptionalLong.of(offset);
    } catch (NumberFormatException e) {
      throw new BloodbankException(
          "offset file " + file + " holds '" + text.replaceAll("[^ -~]", "?") + "', not an offset",
          e);
    }
  }

  @Override
  public synchronized void store(long offset) {
    if (offset < 0) {
      throw new IllegalArgumentException("offset must be 0 or more, was " + offset);
    }
    try {
      try (FileChannel ch =
          FileChannel.open(
              tmp,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap((offset + "\n").getBytes(StandardCharsets.US_ASCII));
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("the file system of " + file + " cannot rename atomically", e);
      }
      forceDirectory();
    } catch (IOException e) {
      throw new BloodbankException(
          "cannot store offset " + offset + " in offset file " + file + ": " + e, e);
    }
  }

  /** Makes the rename durable; a directory cannot be opened on some systems (Windows). */
  private void forceDirectory() {
    Path dir = file.getParent();
    if (dir == null) {
      return;
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // the rename is atomic all the same; only its durability then waits for the OS
    }
  }

  @Override
  public String toString() {
    return "OffsetStore.file(" + file + ")";
  }
}
