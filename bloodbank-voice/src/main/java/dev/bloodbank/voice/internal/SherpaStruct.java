package dev.bloodbank.voice.internal;

import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Base of the sherpa-onnx C API structs: UTF-8 strings, and the field offsets visible to the layout
 * test.
 */
abstract class SherpaStruct extends Structure {
  static final String UTF_8 = StandardCharsets.UTF_8.name();

  SherpaStruct() {
    setStringEncoding(UTF_8);
  }

  SherpaStruct(Pointer memory) {
    super(memory);
    setStringEncoding(UTF_8);
  }

  /** Offset of a field from the start of the struct, in bytes, as JNA lays it out. */
  final int offsetOf(String field) {
    return fieldOffset(field);
  }

  /** Reads a NUL-terminated UTF-8 string the library owns, or "" for NULL. */
  static String string(@Nullable Pointer p) {
    return p == null ? "" : p.getString(0, UTF_8);
  }

  /** Number of UTF-8 bytes in a string, for the {@code *_buf_size} fields. */
  static int utf8Length(@Nullable String s) {
    return s == null ? 0 : s.getBytes(StandardCharsets.UTF_8).length;
  }
}
