package dev.bloodbank.wal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The file-system rules of a log: owner-only directories and files, no symbolic links anywhere,
 * directory fsyncs after every create, rename and delete, and one lock per log for its whole life.
 */
final class LogFiles {
  static final Set<PosixFilePermission> OWNER_FILE =
      EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
  static final Set<PosixFilePermission> OWNER_DIR =
      EnumSet.of(
          PosixFilePermission.OWNER_READ,
          PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.OWNER_EXECUTE);

  /** Logs this JVM holds: a second open must not even open their lock file (see {@link Lock}). */
  private static final Set<Path> HELD = new HashSet<>();

  private LogFiles() {}

  /** Whether the file system has POSIX permissions (not on Windows). */
  static boolean posix(Path dir) throws IOException {
    Path probe = dir;
    while (probe != null && !Files.exists(probe, LinkOption.NOFOLLOW_LINKS)) {
      probe = probe.getParent();
    }
    return Files.getFileStore(probe != null ? probe : Path.of(".").toAbsolutePath())
        .supportsFileAttributeView("posix");
  }

  /** Refuses a path that is a symbolic link (the link itself, not what it points to). */
  static void refuseLink(Path p, String what) throws IOException {
    if (Files.isSymbolicLink(p)) {
      throw new WalException(
          what
              + " "
              + p
              + " is a symbolic link; a log is never read or written through one (another user"
              + " could point it anywhere)",
          null);
    }
  }

  /** Creates the log directory, owner-only, or checks an existing one. */
  static void directory(Path dir, boolean posix) throws IOException {
    refuseLink(dir, "log directory");
    if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        throw new WalException(dir + " is not a directory", null);
      }
      if (posix) {
        Set<PosixFilePermission> perms =
            Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (!OWNER_DIR.containsAll(perms)) {
          throw new WalException(
              "log directory "
                  + dir
                  + " is accessible by others ("
                  + PosixFilePermissions.toString(perms)
                  + "); it holds event data: run chmod 700 on it",
              null);
        }
      }
      return;
    }
    Path parent = dir.getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    if (posix) {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_DIR));
    } else {
      Files.createDirectory(dir);
    }
    if (parent != null) {
      fsyncDirectory(parent);
    }
  }

  /** Refuses a file of the log that others may read, or that is a symbolic link. */
  static void checkFile(Path file, boolean posix) throws IOException {
    refuseLink(file, "log file");
    if (posix) {
      Set<PosixFilePermission> perms =
          Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
      if (!OWNER_FILE.containsAll(perms)) {
        throw new WalException(
            "log file "
                + file
                + " is accessible by others ("
                + PosixFilePermissions.toString(perms)
                + "); it holds event data: run chmod 600 on it",
            null);
      }
    }
  }

  /** Opens a file of the log without following a link at its last component. */
  static FileChannel open(Path file, StandardOpenOption... options) throws IOException {
    Set<java.nio.file.OpenOption> all = new HashSet<>(Set.of(options));
    all.add(LinkOption.NOFOLLOW_LINKS);
    try {
      return FileChannel.open(file, all);
    } catch (FileSystemException e) {
      if (Files.isSymbolicLink(file)) {
        refuseLink(file, "log file");
      }
      throw e;
    }
  }

  /** Creates a new owner-only file (never an existing one) and opens it for writing. */
  static FileChannel createNew(Path file, boolean posix) throws IOException {
    Set<java.nio.file.OpenOption> all =
        new HashSet<>(
            Set.of(
                StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE,
                StandardOpenOption.READ,
                LinkOption.NOFOLLOW_LINKS));
    FileAttribute<?>[] attrs =
        posix
            ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_FILE)}
            : new FileAttribute<?>[0];
    return FileChannel.open(file, all, attrs);
  }

  /**
   * Forces a directory's entries to disk, so that a created, renamed or deleted file is there after
   * a power loss too.
   */
  static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
      c.force(true);
    } catch (IOException e) {
      // Some file systems cannot open a directory for reading; there is nothing else to do there.
      if (!(e instanceof java.nio.file.AccessDeniedException)) {
        throw e;
      }
    }
  }

  /** Whether the path is a regular file (not a link to one). */
  static boolean isRegularFile(Path p) throws IOException {
    return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
        .isRegularFile();
  }

  /**
   * The log's lock: {@code LOCK} in its directory, held from open to close and never released on
   * the way. A POSIX lock belongs to the process and goes away when the process closes any
   * descriptor of the file, so this JVM opens each lock file once: a second open of a log it holds
   * is refused before touching the file.
   */
  static final class Lock implements AutoCloseable {
    private final Path key;
    private final FileChannel channel;
    private final FileLock lock;

    private Lock(Path key, FileChannel channel, FileLock lock) {
      this.key = key;
      this.channel = channel;
      this.lock = lock;
    }

    static Lock acquire(Path dir, boolean posix) throws IOException {
      Path key = dir.toRealPath();
      synchronized (HELD) {
        if (!HELD.add(key)) {
          throw held(dir, "this process");
        }
      }
      FileChannel c = null;
      try {
        Path file = dir.resolve(WalFormat.LOCK_FILE);
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
          try {
            createNew(file, posix).close();
            fsyncDirectory(dir);
          } catch (java.nio.file.FileAlreadyExistsException e) {
            // made by another process meanwhile
          }
        }
        checkFile(file, posix);
        c = open(file, StandardOpenOption.WRITE);
        FileLock l = c.tryLock();
        if (l == null) {
          throw held(dir, "another process");
        }
        return new Lock(key, c, l);
      } catch (IOException | RuntimeException e) {
        if (c != null) {
          c.close();
        }
        synchronized (HELD) {
          HELD.remove(key);
        }
        throw e;
      }
    }

    private static WalException held(Path dir, String who) {
      return new WalException(
          "write-ahead log " + dir + " is held by " + who + "; one writer at a time", null);
    }

    @Override
    public void close() throws IOException {
      try {
        if (lock.isValid()) {
          lock.release();
        }
        channel.close();
      } finally {
        synchronized (HELD) {
          HELD.remove(key);
        }
      }
    }
  }

  /** Deletes a file if it is there, then the directory entry is forced. */
  static boolean delete(Path file, @Nullable Path dir) throws IOException {
    boolean deleted = Files.deleteIfExists(file);
    if (deleted && dir != null) {
      fsyncDirectory(dir);
    }
    return deleted;
  }
}
