package dev.bloodbank.internal;

/**
 * Makes untrusted text safe for one log line or exception message. Not API: shared with
 * bloodbank-server.
 */
public final class LogSafe {
  private static final int MAX = 200;

  private LogSafe() {}

  /**
   * Escapes CR, LF and other control characters (so one event stays one log line) and cuts the text
   * at 200 characters.
   */
  public static String escape(String s) {
    StringBuilder out = new StringBuilder(Math.min(s.length(), MAX) + 8);
    for (int i = 0; i < s.length(); i++) {
      if (out.length() >= MAX) {
        out.append("...(").append(s.length()).append(" chars)");
        break;
      }
      char c = s.charAt(i);
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }
}
