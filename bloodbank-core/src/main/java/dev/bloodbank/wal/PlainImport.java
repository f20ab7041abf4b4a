package dev.bloodbank.wal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Imports a plain JSONL log (one event envelope per line, as the Python services write {@code
 * raw_voice_ingest.jsonl}) into a log: each event becomes a pending record, its id unchanged, in
 * one segment that appears whole or not at all. The segment's header names the source and its
 * SHA-256, so importing the same file again imports nothing.
 */
final class PlainImport {
  private static final JsonFactory JSON = new JsonFactory();
  private static final int MAX_REPORTED = 100;

  private PlainImport() {}

  /** An event line's id and type, or why it is not one. */
  private record Parsed(@Nullable UUID id, @Nullable String type, @Nullable String problem) {}

  static WriteAheadLog.ImportResult run(WriteAheadLog wal, Path plain) throws IOException {
    Path source = plain.toAbsolutePath();
    List<String> skipped = new ArrayList<>();
    int[] count = {0};
    MessageDigest sha = sha256();
    try (FileChannel c = FileChannel.open(source, StandardOpenOption.READ)) {
      long size = c.size();
      LineReader.End end =
          LineReader.read(
              c,
              size,
              (line, offset, lineNo) -> {
                sha.update(line);
                sha.update((byte) '\n');
                if (isBlank(line)) {
                  return true;
                }
                Parsed p = parse(line, wal.maxRecordBytes());
                if (p.problem() != null) {
                  skip(skipped, source + " line " + lineNo + ": " + p.problem());
                } else {
                  count[0]++;
                }
                return true;
              });
      if (end.tornBytes() > 0) {
        skip(skipped, source + " line " + (end.lines() + 1) + ": no line end (a torn last line)");
      }
      String identity = source + "#sha256=" + HexFormat.of().formatHex(sha.digest());
      if (wal.imported(identity)) {
        return new WriteAheadLog.ImportResult(0, List.of(source + " was imported before"), null);
      }
      if (count[0] == 0) {
        return new WriteAheadLog.ImportResult(0, skipped, null);
      }
      long first = wal.reserve(count[0]);
      // Written straight to a temporary file, so memory stays flat whatever the size of the log.
      Path tmp = wal.directory().resolve("import-" + first + ".tmp");
      java.nio.file.Files.deleteIfExists(tmp);
      long[] seq = {first};
      MessageDigest again = sha256();
      try (FileChannel out = LogFiles.createNew(tmp, wal.posixFiles())) {
        long[] pos = {0};
        write(out, pos, WalFormat.headerLine(first, identity));
        LineReader.read(
            c,
            size,
            (line, offset, lineNo) -> {
              again.update(line);
              again.update((byte) '\n');
              if (isBlank(line)) {
                return true;
              }
              Parsed p = parse(line, wal.maxRecordBytes());
              if (p.problem() == null) {
                write(
                    out,
                    pos,
                    WalFormat.eventLine(
                        seq[0]++, p.id(), String.valueOf(p.type()), WalFormat.oneLine(line)));
              }
              return true;
            });
        out.force(true);
      } catch (IOException | RuntimeException e) {
        java.nio.file.Files.deleteIfExists(tmp);
        throw e;
      }
      String check = source + "#sha256=" + HexFormat.of().formatHex(again.digest());
      if (!check.equals(identity) || seq[0] - first != count[0]) {
        java.nio.file.Files.deleteIfExists(tmp);
        throw new IOException(source + " changed while it was imported; nothing was imported");
      }
      Path segment = wal.commitImport(first, tmp, count[0]);
      return new WriteAheadLog.ImportResult(count[0], skipped, segment);
    }
  }

  private static void write(FileChannel c, long[] pos, byte[] bytes) throws IOException {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) {
      pos[0] += c.write(b, pos[0]);
    }
  }

  private static void skip(List<String> skipped, String why) {
    if (skipped.size() < MAX_REPORTED) {
      skipped.add(why);
    } else if (skipped.size() == MAX_REPORTED) {
      skipped.add("(more lines skipped; only the first " + MAX_REPORTED + " are listed)");
    }
  }

  private static Parsed parse(byte[] line, int maxBytes) {
    if (line.length > maxBytes) {
      return new Parsed(null, null, line.length + " bytes, over the record limit of " + maxBytes);
    }
    String id = null;
    String type = null;
    try (JsonParser p = JSON.createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return new Parsed(null, null, "not a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (v == JsonToken.VALUE_STRING && (name.equals("event_id") || name.equals("id"))) {
          id = id == null || name.equals("event_id") ? p.getText() : id;
        } else if (v == JsonToken.VALUE_STRING && name.equals("event_type")) {
          type = p.getText();
        } else {
          p.skipChildren();
        }
      }
      if (p.nextToken() != null) {
        return new Parsed(null, null, "more than one JSON value on the line");
      }
    } catch (IOException e) {
      return new Parsed(null, null, "not JSON (" + firstLine(e.getMessage()) + ")");
    }
    if (id == null) {
      return new Parsed(null, null, "no event_id");
    }
    if (type == null || type.isBlank()) {
      return new Parsed(null, null, "no event_type");
    }
    UUID uuid;
    try {
      uuid = UUID.fromString(id);
    } catch (IllegalArgumentException e) {
      return new Parsed(null, null, "event_id '" + truncate(id) + "' is not a UUID");
    }
    if (!uuid.toString().equalsIgnoreCase(id)) {
      return new Parsed(null, null, "event_id '" + truncate(id) + "' is not a canonical UUID");
    }
    return new Parsed(uuid, type, null);
  }

  private static boolean isBlank(byte[] line) {
    for (byte b : line) {
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }

  private static String firstLine(@Nullable String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private static String truncate(String s) {
    return s.length() > 60 ? s.substring(0, 60) + "..." : s;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
