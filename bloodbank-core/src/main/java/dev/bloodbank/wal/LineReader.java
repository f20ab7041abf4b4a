package dev.bloodbank.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * Reads the lines of a file region in 64 KB blocks through positional reads, so memory stays at
 * about one block and one line whatever the size of the file, and reading never moves the position
 * writers append at.
 */
final class LineReader {
  /** Receives each complete line (without its newline). */
  interface LineVisitor {
    /**
     * Takes one line.
     *
     * @param line the bytes, a fresh array the visitor may keep
     * @param offset the byte offset of the line's first byte
     * @param lineNo the line number, 1 for the file's first line
     * @return false to stop reading
     */
    boolean line(byte[] line, long offset, long lineNo) throws IOException;
  }

  /** Where reading stopped. */
  record End(long completeUpTo, long tornBytes, long lines, boolean stopped) {}

  private static final int BLOCK = 1 << 16;

  private LineReader() {}

  /**
   * Reads the lines of {@code channel} from byte 0 up to {@code limit}.
   *
   * @return the offset after the last complete line read, the bytes after it (a torn tail when
   *     reading went to the limit), the number of lines, and whether the visitor stopped it
   */
  static End read(FileChannel channel, long limit, LineVisitor visitor) throws IOException {
    return read(channel, 0, limit, visitor);
  }

  /**
   * Reads the lines of {@code channel} from byte {@code start}, which must be a line's start, up to
   * {@code limit}; line numbers count from 1 at {@code start}.
   */
  static End read(FileChannel channel, long start, long limit, LineVisitor visitor)
      throws IOException {
    ByteBuffer block = ByteBuffer.allocate(BLOCK);
    byte[] carry = new byte[0];
    long pos = start;
    long lineStart = start;
    long lineNo = 0;
    while (pos < limit) {
      block.clear();
      block.limit((int) Math.min(BLOCK, limit - pos));
      int n = channel.read(block, pos);
      if (n <= 0) {
        break;
      }
      byte[] a = block.array();
      int from = 0;
      for (int i = 0; i < n; i++) {
        if (a[i] != '\n') {
          continue;
        }
        byte[] line;
        if (carry.length == 0) {
          line = Arrays.copyOfRange(a, from, i);
        } else {
          line = Arrays.copyOf(carry, carry.length + i - from);
          System.arraycopy(a, from, line, carry.length, i - from);
          carry = new byte[0];
        }
        from = i + 1;
        lineNo++;
        if (!visitor.line(line, lineStart, lineNo)) {
          return new End(pos + from, 0, lineNo, true);
        }
        lineStart = pos + from;
      }
      if (from < n) {
        byte[] more = Arrays.copyOf(carry, carry.length + n - from);
        System.arraycopy(a, from, more, carry.length, n - from);
        carry = more;
      }
      pos += n;
    }
    return new End(lineStart, carry.length, lineNo, false);
  }
}
