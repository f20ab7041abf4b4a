package dev.bloodbank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How input and output become prompts and responses. */
class TranscriptTest {
  private final List<String> seen = new ArrayList<>();
  private final Transcript.Listener listener =
      new Transcript.Listener() {
        @Override
        public void prompt(String text) {
          seen.add("P:" + text);
        }

        @Override
        public void response(String text, boolean truncated) {
          seen.add((truncated ? "R!:" : "R:") + text);
        }
      };

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void in(Transcript t, String s) {
    t.input(b(s), 0, b(s).length);
  }

  private static void out(Transcript t, String s) {
    t.output(b(s), 0, b(s).length);
  }

  @Test
  void aTerminalsEchoIsNotPartOfTheResponseWhetherKeysComeOneByOneOrInABurst() {
    Transcript t = new Transcript(listener, 1000, true);
    out(t, "banner\r\n> ");
    for (char c : "hi".toCharArray()) {
      in(t, String.valueOf(c));
      out(t, String.valueOf(c));
    }
    in(t, "\r");
    out(t, "\r\n\u001b[1myo\u001b[0m\r\n> ");
    in(t, "w\u00e9\r");
    out(t, "w\u00e9\r\nanswer\r\n");
    t.finish();
    assertThat(seen).containsExactly("P:hi", "R:yo\n>", "P:wé", "R:answer");
  }

  @Test
  void lineEditingEscapeSequencesAndPastes() {
    Transcript t = new Transcript(listener, 1000, false);
    in(t, "ab\u001b[Dc\u007f\r");
    in(t, "one two\u0017three\n");
    in(t, "gone\u0015kept\n");
    in(t, "\u001b[200~line 1\nline 2\u001b[201~\r");
    in(t, "\u001b[12;1R   \n");
    assertThat(seen).containsExactly("P:ab", "P:one three", "P:kept", "P:line 1\nline 2");
  }

  @Test
  void longResponsesAreCutWithANoteAndProgressRedrawsCollapse() {
    // The cap counts the raw bytes the program wrote, escape sequences and redraws included.
    Transcript t = new Transcript(listener, 12, false);
    in(t, "go\n");
    out(t, "10%\r100%\r\nand much more text");
    t.finish();
    assertThat(seen).containsExactly("P:go", "R!:100%\nan\n[bb: response cut at 12 bytes]");
    assertThat(TerminalText.plain(b("wor\b \bld\r\r\n\u001b]0;title\u0007x"))).isEqualTo("wold\nx");
  }
}
