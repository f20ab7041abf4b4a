package dev.bloodbank.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The text of {@code bb tui}'s payload editor: lines, a cursor and a scroll offset, with the edits
 * a small editor needs. Columns count UTF-16 chars; the catalog's payloads are ASCII JSON in
 * practice, and a wide character only shifts the cursor, never loses text. Not thread-safe: the
 * TUI's one input thread owns it.
 */
final class PayloadEditor {
  private static final String INDENT = "  ";

  private final List<StringBuilder> lines = new ArrayList<>();
  private int row;
  private int col;
  private int top;
  private int left;
  private long version;

  PayloadEditor() {
    lines.add(new StringBuilder());
  }

  /** Replaces the whole text and puts the cursor at its start. */
  void setText(String text) {
    lines.clear();
    for (String l : text.replace("\r\n", "\n").replace('\r', '\n').split("\n", -1)) {
      lines.add(new StringBuilder(l.replace("\t", INDENT)));
    }
    row = 0;
    col = 0;
    top = 0;
    left = 0;
    version++;
  }

  String text() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < lines.size(); i++) {
      if (i > 0) {
        b.append('\n');
      }
      b.append(lines.get(i));
    }
    return b.toString();
  }

  /** Counts changes to the text, so that validation runs once per change. */
  long version() {
    return version;
  }

  int row() {
    return row;
  }

  int col() {
    return col;
  }

  int lineCount() {
    return lines.size();
  }

  String line(int i) {
    return lines.get(i).toString();
  }

  void insert(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\n' || c == '\r') {
        newline();
      } else if (c == '\t') {
        insertText(INDENT);
      } else if (c >= 0x20 && c != 0x7f) {
        insertText(String.valueOf(c));
      }
    }
  }

  private void insertText(String s) {
    lines.get(row).insert(col, s);
    col += s.length();
    version++;
  }

  /** Splits the line at the cursor, keeping the current line's indentation. */
  void newline() {
    StringBuilder cur = lines.get(row);
    String rest = cur.substring(col);
    cur.setLength(col);
    int indent = 0;
    while (indent < cur.length() && cur.charAt(indent) == ' ') {
      indent++;
    }
    lines.add(row + 1, new StringBuilder(" ".repeat(indent)).append(rest));
    row++;
    col = indent;
    version++;
  }

  void backspace() {
    if (col > 0) {
      lines.get(row).deleteCharAt(col - 1);
      col--;
      version++;
    } else if (row > 0) {
      StringBuilder prev = lines.get(row - 1);
      col = prev.length();
      prev.append(lines.remove(row));
      row--;
      version++;
    }
  }

  void delete() {
    StringBuilder cur = lines.get(row);
    if (col < cur.length()) {
      cur.deleteCharAt(col);
      version++;
    } else if (row + 1 < lines.size()) {
      cur.append(lines.remove(row + 1));
      version++;
    }
  }

  /** Deletes from the cursor to the end of the line, or joins the next line at an end. */
  void killLine() {
    StringBuilder cur = lines.get(row);
    if (col < cur.length()) {
      cur.setLength(col);
      version++;
    } else {
      delete();
    }
  }

  void left() {
    if (col > 0) {
      col--;
    } else if (row > 0) {
      row--;
      col = lines.get(row).length();
    }
  }

  void right() {
    if (col < lines.get(row).length()) {
      col++;
    } else if (row + 1 < lines.size()) {
      row++;
      col = 0;
    }
  }

  void up() {
    moveTo(row - 1, col);
  }

  void down() {
    moveTo(row + 1, col);
  }

  void home() {
    col = 0;
  }

  void end() {
    col = lines.get(row).length();
  }

  void pageUp(int height) {
    moveTo(row - Math.max(1, height - 1), col);
  }

  void pageDown(int height) {
    moveTo(row + Math.max(1, height - 1), col);
  }

  /** Moves the cursor to a 0-based line and column, clamped to the text. */
  void moveTo(int r, int c) {
    row = Math.max(0, Math.min(lines.size() - 1, r));
    col = Math.max(0, Math.min(lines.get(row).length(), c));
  }

  /**
   * Returns the part of the text to show in a window of the given size, scrolled so the cursor is
   * inside it; {@link #scrollTop()} and {@link #scrollLeft()} then say where the window starts.
   */
  List<String> window(int height, int width) {
    if (row < top) {
      top = row;
    } else if (row >= top + height) {
      top = row - height + 1;
    }
    if (col < left) {
      left = col;
    } else if (col >= left + width) {
      left = col - width + 1;
    }
    List<String> out = new ArrayList<>(height);
    for (int i = top; i < Math.min(lines.size(), top + height); i++) {
      StringBuilder l = lines.get(i);
      out.add(left >= l.length() ? "" : l.substring(left, Math.min(l.length(), left + width)));
    }
    return out;
  }

  int scrollTop() {
    return top;
  }

  int scrollLeft() {
    return left;
  }
}
