package dev.bloodbank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PayloadEditorTest {
  @Test
  void newlineKeepsTheIndentAndBackspaceJoinsLines() {
    PayloadEditor e = new PayloadEditor();
    e.setText("{\n  \"a\": 1}");
    e.moveTo(1, 8);
    e.newline();
    assertThat(e.text()).isEqualTo("{\n  \"a\": 1\n  }");
    assertThat(e.row()).isEqualTo(2);
    assertThat(e.col()).isEqualTo(2);
    e.home();
    e.backspace();
    assertThat(e.text()).isEqualTo("{\n  \"a\": 1  }");
    assertThat(e.col()).isEqualTo(8);
  }

  @Test
  void killLineCutsToTheEndThenJoins() {
    PayloadEditor e = new PayloadEditor();
    e.setText("ab\ncd");
    e.moveTo(0, 1);
    e.killLine();
    assertThat(e.text()).isEqualTo("a\ncd");
    e.killLine();
    assertThat(e.text()).isEqualTo("acd");
  }

  @Test
  void everyChangeCountsAndMovesDoNot() {
    PayloadEditor e = new PayloadEditor();
    e.setText("x");
    long v = e.version();
    e.right();
    e.left();
    e.down();
    assertThat(e.version()).isEqualTo(v);
    e.insert("\ty");
    assertThat(e.text()).isEqualTo("  yx");
    assertThat(e.version()).isGreaterThan(v);
  }

  @Test
  void theWindowFollowsTheCursor() {
    PayloadEditor e = new PayloadEditor();
    e.setText("0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n" + "w".repeat(50));
    e.moveTo(10, 50);
    assertThat(e.window(3, 20)).containsExactly("", "", "w".repeat(19));
    assertThat(e.scrollTop()).isEqualTo(8);
    assertThat(e.scrollLeft()).isEqualTo(31);
    e.moveTo(0, 0);
    assertThat(e.window(3, 20)).containsExactly("0", "1", "2");
  }

  @Test
  void cursorMovesAreClampedToTheText() {
    PayloadEditor e = new PayloadEditor();
    e.setText("abc\nd");
    e.moveTo(0, 3);
    e.down();
    assertThat(e.col()).isEqualTo(1);
    e.right();
    assertThat(e.row()).isEqualTo(1);
    e.up();
    e.up();
    assertThat(e.row()).isZero();
    e.left();
    assertThat(e.col()).isZero();
  }
}
