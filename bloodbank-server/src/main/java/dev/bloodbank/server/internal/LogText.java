package dev.bloodbank.server.internal;

/** User text made safe for a log line or an error message: CR/LF escaped, length capped. */
final class LogText {
  private LogText() {}

  static String clip(String s) {
    String t = s.length() > 120 ? s.substring(0, 120) + "…" : s;
    StringBuilder b = new StringBuilder(t.length());
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c == '\n') {
        b.append("\\n");
      } else if (c == '\r') {
        b.append("\\r");
      } else if (c < 0x20 || c == 0x7f) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
