package dev.bloodbank.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A tmux server of a test's own (its own socket, so no one else's sessions are touched) to run
 * {@code bb} on a real terminal: keys in with {@code send-keys}, the screen back with {@code
 * capture-pane}. Closing it kills the server and everything in it.
 */
final class Tmux implements AutoCloseable {
  private final String socket;

  private Tmux(String socket) {
    this.socket = socket;
  }

  /**
   * Starts using tmux, or skips the test when it is missing; under CI a missing tmux (or any of
   * {@code alsoNeeded}) fails, since {@code .ci/run} installs them.
   */
  static Tmux open(String name, Path... alsoNeeded) {
    boolean present = Files.isExecutable(Path.of("/usr/bin/tmux"));
    for (Path p : alsoNeeded) {
      present &= Files.isExecutable(p);
    }
    if (!present && System.getenv("CI") != null) {
      throw new AssertionError(
          "tmux (or " + List.of(alsoNeeded) + ") is missing; .ci/run installs it");
    }
    Assumptions.assumeTrue(present, "tmux is not installed");
    return new Tmux(name + "-" + UUID.randomUUID().toString().substring(0, 8));
  }

  /** Runs a tmux command; returns its exit code. */
  int run(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("tmux", "-L", socket));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor(10, TimeUnit.SECONDS) ? p.exitValue() : -1;
  }

  /** Starts a detached session of the given size running a shell command. */
  void newSession(String session, int cols, int rows, String command) throws Exception {
    int rc =
        run(
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            String.valueOf(cols),
            "-y",
            String.valueOf(rows),
            command);
    if (rc != 0) {
      throw new AssertionError("tmux new-session failed with " + rc);
    }
  }

  /** Sends keys by tmux's names ({@code Enter}, {@code C-c}, {@code Down}) or as text. */
  void keys(String session, String... keys) throws Exception {
    List<String> args = new ArrayList<>(List.of("send-keys", "-t", session));
    args.addAll(List.of(keys));
    if (run(args.toArray(new String[0])) != 0) {
      throw new AssertionError("tmux send-keys " + List.of(keys) + " failed");
    }
  }

  /** Types text literally, with no key names looked up. */
  void type(String session, String text) throws Exception {
    if (run("send-keys", "-t", session, "-l", text) != 0) {
      throw new AssertionError("tmux send-keys -l failed");
    }
  }

  /** The pane's text now. */
  String pane(String session) throws IOException, InterruptedException {
    return capture(session, false);
  }

  /** The pane's text with its colours and attributes as escape sequences. */
  String paneWithEscapes(String session) throws IOException, InterruptedException {
    return capture(session, true);
  }

  private String capture(String session, boolean escapes) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("tmux", "-L", socket, "capture-pane", "-p"));
    if (escapes) {
      cmd.add("-e");
    }
    cmd.addAll(List.of("-t", session));
    Process p = new ProcessBuilder(cmd).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(10, TimeUnit.SECONDS);
    return text;
  }

  /** Waits until the pane shows {@code text}; returns the pane, or fails showing the last one. */
  String await(String session, String text, long seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    String last = "";
    while (System.nanoTime() < deadline) {
      last = pane(session);
      if (last.contains(text)) {
        return last;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("'" + text + "' not on the pane after " + seconds + " s:\n" + last);
  }

  /**
   * Starts {@code bb} from the test class path with the given environment in a new session; when it
   * exits the shell prints {@code EXIT=<code>}, runs {@code afterExit} (e.g. to show the terminal's
   * modes) and stays open, so the pane can still be read.
   */
  void startBb(
      String session, int cols, int rows, Map<String, String> env, String bbArgs, String afterExit)
      throws Exception {
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    StringBuilder sh = new StringBuilder();
    env.forEach((k, v) -> sh.append("export ").append(k).append("='").append(v).append("'\n"));
    // exec: bb is the pane's foreground process itself, so a Ctrl-C reaches it alone and the
    // outer shell below lives on to print its exit code.
    sh.append("exec '")
        .append(Path.of(System.getProperty("java.home"), "bin", "java"))
        .append("' -cp '")
        .append(cp)
        .append("' dev.bloodbank.cli.Bb ")
        .append(bbArgs)
        .append('\n');
    Path script = Files.createTempFile("bb-tmux", ".sh");
    Files.writeString(script, sh);
    script.toFile().deleteOnExit();
    newSession(
        session,
        cols,
        rows,
        "sh '"
            + script
            + "'; echo EXIT=$?; "
            + (afterExit.isEmpty() ? "" : afterExit + "; ")
            + "sleep 120");
  }

  @Override
  public void close() throws Exception {
    run("kill-server");
  }
}
