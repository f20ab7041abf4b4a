package dev.bloodbank.wal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.zip.CRC32C;
import org.jspecify.annotations.Nullable;

/**
 * The bytes of a log, as {@code docs/wal-format.md} describes them: a segment's header line, and
 * checksummed record lines {@code {"crc32c":"<8 hex>","record":{...}}}. Only jackson-core: a
 * process that writes a log starts without loading databind.
 */
final class WalFormat {
  /** The format version this code writes and reads. */
  static final int VERSION = 1;

  static final String MAGIC = "bloodbank_wal";
  static final String SEGMENT_SUFFIX = ".seg";
  static final String LOCK_FILE = "LOCK";

  private static final byte[] PREFIX = "{\"crc32c\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] MIDDLE = "\",\"record\":".getBytes(StandardCharsets.US_ASCII);
  static final int HEADER = PREFIX.length + 8 + MIDDLE.length;
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private static final JsonFactory JSON = new JsonFactory();

  private WalFormat() {}

  /** A segment's file name: its first sequence number, 20 digits, so names sort by it. */
  static String segmentName(long firstSeq) {
    return String.format("%020d", firstSeq) + SEGMENT_SUFFIX;
  }

  /** The first sequence number a segment file name stands for, or -1 when it names none. */
  static long firstSeqOf(String fileName) {
    if (fileName.length() != 20 + SEGMENT_SUFFIX.length() || !fileName.endsWith(SEGMENT_SUFFIX)) {
      return -1;
    }
    for (int i = 0; i < 20; i++) {
      if (!Character.isDigit(fileName.charAt(i))) {
        return -1;
      }
    }
    return Long.parseLong(fileName.substring(0, 20));
  }

  // ---- segment header ----------------------------------------------------------------------

  /** What a segment's first line says. */
  record SegmentHeader(int version, long firstSeq, @Nullable String importedFrom) {}

  /** The first line of a segment, newline included. */
  static byte[] headerLine(long firstSeq, @Nullable String importedFrom) {
    StringBuilder b =
        new StringBuilder("{\"")
            .append(MAGIC)
            .append("\":")
            .append(VERSION)
            .append(",\"first_seq\":")
            .append(firstSeq);
    if (importedFrom != null) {
      b.append(",\"imported_from\":\"")
          .append(JsonStringEncoder.getInstance().quoteAsString(importedFrom))
          .append('"');
    }
    return b.append("}\n").toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Reads a segment's first line.
   *
   * @return the header, or null when the line is not a Bloodbank log header
   */
  static @Nullable SegmentHeader parseHeader(byte[] line) {
    int version = -1;
    long first = -1;
    String imported = null;
    try (JsonParser p = JSON.createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        switch (name) {
          case MAGIC -> version = v == JsonToken.VALUE_NUMBER_INT ? p.getIntValue() : -1;
          case "first_seq" -> first = v == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : -1;
          case "imported_from" -> imported = v == JsonToken.VALUE_STRING ? p.getText() : null;
          default -> p.skipChildren();
        }
      }
    } catch (IOException e) {
      return null;
    }
    if (version < 1 || first < 1) {
      return null;
    }
    return new SegmentHeader(version, first, imported);
  }

  // ---- record lines ------------------------------------------------------------------------

  /** An event record line, newline included. {@code event} must be one line of JSON. */
  static byte[] eventLine(long seq, UUID id, String eventType, byte[] event) {
    byte[] head =
        ("{\"seq\":"
                + seq
                + ",\"op\":\"event\",\"id\":\""
                + id
                + "\",\"event_type\":\""
                + new String(JsonStringEncoder.getInstance().quoteAsString(eventType))
                + "\",\"event\":")
            .getBytes(StandardCharsets.UTF_8);
    byte[] record = new byte[head.length + event.length + 1];
    System.arraycopy(head, 0, record, 0, head.length);
    System.arraycopy(event, 0, record, head.length, event.length);
    record[record.length - 1] = '}';
    return frame(record);
  }

  /** A done record line, newline included. */
  static byte[] doneLine(long seq) {
    return frame(("{\"seq\":" + seq + ",\"op\":\"done\"}").getBytes(StandardCharsets.US_ASCII));
  }

  private static byte[] frame(byte[] record) {
    CRC32C crc = new CRC32C();
    crc.update(record);
    long v = crc.getValue();
    byte[] line = new byte[HEADER + record.length + 2];
    System.arraycopy(PREFIX, 0, line, 0, PREFIX.length);
    for (int i = 7; i >= 0; i--) {
      line[PREFIX.length + i] = HEX[(int) (v & 0xf)];
      v >>>= 4;
    }
    System.arraycopy(MIDDLE, 0, line, PREFIX.length + 8, MIDDLE.length);
    System.arraycopy(record, 0, line, HEADER, record.length);
    line[line.length - 2] = '}';
    line[line.length - 1] = '\n';
    return line;
  }

  /** What recovery and replay need of a record, read without parsing the event itself. */
  record Header(
      long seq, String op, @Nullable String id, @Nullable String eventType, int eventStart) {}

  /**
   * Checks a line's framing and checksum and reads its record's header fields. The event is not
   * parsed: the checksum proves it is the JSON this log wrote.
   *
   * @param line a line without its newline
   * @throws IllegalArgumentException naming what is wrong
   */
  static Header verify(byte[] line) {
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
    try (JsonParser p = JSON.createParser(line, HEADER, line.length - 1 - HEADER)) {
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
          case "event" ->
              eventStart = eventOffset(line, (int) p.currentTokenLocation().getByteOffset());
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
    if (seq < 1) {
      throw new IllegalArgumentException("no sequence number");
    }
    if (!op.equals("event") && !op.equals("done")) {
      throw new IllegalArgumentException("unknown op '" + op + "'");
    }
    if (op.equals("event") && (eventStart < 0 || id == null)) {
      throw new IllegalArgumentException("an event record without its id or event");
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

  /** The event record of a verified event line. */
  static WalRecord toRecord(Header h, byte[] line) {
    // The record ends with the event and then '}' of the record and '}' of the line.
    return new WalRecord(
        h.seq(),
        UUID.fromString(String.valueOf(h.id())),
        String.valueOf(h.eventType()),
        java.util.Arrays.copyOfRange(line, h.eventStart(), line.length - 2));
  }

  static boolean startsWith(byte[] a, byte[] prefix) {
    if (a.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (a[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** Whether a line looks like a record of the single-file format before segments. */
  static boolean isRecordLine(byte[] line) {
    return startsWith(line, PREFIX);
  }

  // ---- events ------------------------------------------------------------------------------

  /**
   * The event as one line of compact JSON. Bytes without a line break are taken as they are (the
   * codec writes compact JSON); others (a pretty-printing mapper) are re-written token by token,
   * which also proves them to be one JSON object.
   *
   * @throws IllegalArgumentException when the bytes are not one JSON object
   */
  static byte[] oneLine(byte[] event) {
    boolean breaks = false;
    for (byte b : event) {
      if (b == '\n' || b == '\r') {
        breaks = true;
        break;
      }
    }
    if (!breaks) {
      return event;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(event.length);
    try (JsonParser p = JSON.createParser(event);
        JsonGenerator g = JSON.createGenerator(out)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("the event is not a JSON object");
      }
      g.copyCurrentStructure(p);
      if (p.nextToken() != null) {
        throw new IllegalArgumentException("the event has more than one JSON value");
      }
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("the event is not JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("the event cannot be read: " + e.getMessage(), e);
    }
    return out.toByteArray();
  }
}
