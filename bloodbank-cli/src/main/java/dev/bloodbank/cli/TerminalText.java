package dev.bloodbank.cli;

import java.nio.charset.StandardCharsets;

/** Terminal output as plain text, for events: what the screen would roughly show, line by line. */
final class TerminalText {
  private TerminalText() {}

  /**
   * Decodes UTF-8 (malformed bytes become U+FFFD), drops ANSI escape sequences (CSI, OSC, DCS, SS3,
   * charset selection), turns CR LF into LF, lets a lone CR or a backspace move back so that what
   * follows overwrites the line (progress bars, echoed erasures), and drops other control
   * characters but tab.
   */
  static String plain(byte[] bytes) {
    String s = new String(bytes, StandardCharsets.UTF_8);
    StringBuilder b = new StringBuilder(s.length());
    int lineStart = 0;
    int cursor = 0;
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c == 0x1b && i + 1 < n) {
        char k = s.charAt(++i);
        if (k == '[') {
          while (i + 1 < n && !(s.charAt(i + 1) >= 0x40 && s.charAt(i + 1) <= 0x7e)) {
            i++;
          }
          i++;
        } else if (k == ']' || k == 'P' || k == '_' || k == '^') {
          while (i + 1 < n) {
            char d = s.charAt(++i);
            if (d == 0x07) {
              break;
            }
            if (d == 0x1b && i + 1 < n && s.charAt(i + 1) == '\\') {
              i++;
              break;
            }
          }
        } else if (k == 'O' || k == '(' || k == ')' || k == '*' || k == '+') {
          i++;
        }
      } else if (c == '\r') {
        if (i + 1 < n && s.charAt(i + 1) == '\n') {
          continue;
        }
        cursor = lineStart;
      } else if (c == '\n') {
        b.append('\n');
        lineStart = b.length();
        cursor = lineStart;
      } else if (c == '\b') {
        cursor = Math.max(lineStart, cursor - 1);
      } else if (c == '\t' || c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0)) {
        if (cursor < b.length()) {
          b.setCharAt(cursor, c);
        } else {
          b.append(c);
        }
        cursor++;
      }
    }
    return b.toString();
  }
}
