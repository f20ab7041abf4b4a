package dev.bloodbank.cli;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns what goes into a wrapped program and what comes out of it into prompts and responses.
 *
 * <p>A <em>prompt</em> is a line of input: the bytes typed (or piped) up to Enter ({@code \r} or
 * {@code \n}), with the line editing a terminal does applied (Backspace, Ctrl-U, Ctrl-W), escape
 * sequences (arrow keys, terminal replies) dropped, and blank lines ignored. Inside a bracketed
 * paste a newline is part of the line, so a pasted paragraph is one prompt.
 *
 * <p>A <em>response</em> is the program's output from the Enter of one prompt until the first key
 * of the next line (or the end of the program), as plain text: ANSI sequences stripped, carriage
 * returns and backspaces applied. Output while a line is being typed is the terminal's echo and
 * belongs to no response; on a terminal, the echo of the rest of the line after Enter is removed
 * too. Output before the first prompt (a banner) and empty responses are not reported. A response
 * longer than the cap is cut, and says so.
 *
 * <p>Not thread-safe: one thread feeds it.
 */
final class Transcript {
  /** Receives prompts and responses, on the thread that feeds the transcript. */
  interface Listener {
    /** A prompt was entered. */
    void prompt(String text);

    /** The program answered the last prompt; {@code truncated} when the text was cut. */
    void response(String text, boolean truncated);
  }

  private final Listener listener;
  private final int maxResponseBytes;
  private final boolean echo;

  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private final ByteArrayOutputStream response = new ByteArrayOutputStream();
  private final StringBuilder csi = new StringBuilder();
  private boolean typing;
  private boolean truncated;
  private boolean prompted;
  private boolean paste;
  private String lastPrompt = "";
  private boolean echoPending;

  /** Input escape sequence state. */
  private int esc;

  private static final int NONE = 0;
  private static final int ESC = 1;
  private static final int CSI = 2;
  private static final int SS3 = 3;
  private static final int OSC = 4;
  private static final int OSC_ESC = 5;
  private static final int CHARSET = 6;

  /**
   * @param listener receives prompts and responses
   * @param maxResponseBytes the cap on a response's raw output, in bytes
   * @param echo whether input is echoed in the output (a terminal), so that the echo is removed
   */
  Transcript(Listener listener, int maxResponseBytes, boolean echo) {
    this.listener = listener;
    this.maxResponseBytes = maxResponseBytes;
    this.echo = echo;
  }

  /** Bytes that went to the program's input. */
  void input(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      input(b[i] & 0xff);
    }
  }

  private void input(int c) {
    switch (esc) {
      case ESC -> {
        esc =
            switch (c) {
              case '[' -> CSI;
              case 'O' -> SS3;
              case ']', 'P', '_', '^' -> OSC;
              case '(', ')', '*', '+' -> CHARSET;
              default -> NONE;
            };
        csi.setLength(0);
        return;
      }
      case CSI -> {
        if (c >= 0x40 && c <= 0x7e) {
          esc = NONE;
          if (c == '~' && csi.toString().equals("200")) {
            paste = true;
            startTyping();
          } else if (c == '~' && csi.toString().equals("201")) {
            paste = false;
          }
        } else if (csi.length() < 32) {
          csi.append((char) c);
        }
        return;
      }
      case SS3, CHARSET -> {
        esc = NONE;
        return;
      }
      case OSC -> {
        esc = c == 0x07 ? NONE : c == 0x1b ? OSC_ESC : OSC;
        return;
      }
      case OSC_ESC -> {
        esc = NONE;
        return;
      }
      default -> {}
    }
    if (c == 0x1b) {
      esc = ESC;
    } else if (c == '\r' || c == '\n') {
      if (paste) {
        line.write('\n');
      } else {
        enter();
      }
    } else if (c == 0x7f || c == 0x08) {
      deleteCodePoint();
    } else if (c == 0x15 || c == 0x03) { // Ctrl-U, Ctrl-C: the line is abandoned
      line.reset();
    } else if (c == 0x17) { // Ctrl-W
      deleteWord();
    } else if (c == '\t' || c >= 0x20) {
      startTyping();
      line.write(c);
    }
  }

  private void startTyping() {
    if (!typing) {
      typing = true;
      flushResponse();
    }
  }

  private void enter() {
    String text = new String(line.toByteArray(), StandardCharsets.UTF_8).strip();
    line.reset();
    typing = false;
    if (!text.isEmpty()) {
      listener.prompt(text);
      prompted = true;
      lastPrompt = text;
      echoPending = echo;
    }
  }

  private void deleteCodePoint() {
    byte[] b = line.toByteArray();
    int n = b.length;
    while (n > 0 && (b[n - 1] & 0xc0) == 0x80) {
      n--;
    }
    n = Math.max(0, n - 1);
    line.reset();
    line.write(b, 0, n);
  }

  private void deleteWord() {
    byte[] b = line.toByteArray();
    int n = b.length;
    while (n > 0 && b[n - 1] == ' ') {
      n--;
    }
    while (n > 0 && b[n - 1] != ' ') {
      n--;
    }
    line.reset();
    line.write(b, 0, n);
  }

  /** Bytes the program wrote. */
  void output(byte[] b, int off, int len) {
    if (typing || !prompted) {
      return;
    }
    int room = maxResponseBytes - response.size();
    if (len > room) {
      truncated = true;
    }
    response.write(b, off, Math.max(0, Math.min(len, room)));
  }

  /** The program ended: reports the last response. */
  void finish() {
    flushResponse();
  }

  private void flushResponse() {
    if (response.size() == 0) {
      return;
    }
    String text = TerminalText.plain(response.toByteArray());
    response.reset();
    boolean cut = truncated;
    truncated = false;
    if (echoPending) {
      echoPending = false;
      // The terminal echoes what was typed but not yet echoed when Enter was pressed (all of it
      // when keys arrive in one burst): the first line of the output, if the prompt ends with it.
      int nl = text.indexOf('\n');
      String first = nl < 0 ? text : text.substring(0, nl);
      if (lastPrompt.endsWith(first.strip())) {
        text = nl < 0 ? "" : text.substring(nl + 1);
      }
    }
    text = text.strip();
    if (!text.isEmpty() || cut) {
      listener.response(
          cut ? text + "\n[bb: response cut at " + maxResponseBytes + " bytes]" : text, cut);
    }
  }
}
