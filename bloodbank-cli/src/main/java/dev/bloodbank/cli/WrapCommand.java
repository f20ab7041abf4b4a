package dev.bloodbank.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code bb wrap}. */
@Command(
    name = "wrap",
    description = {
      "Run a program (an agent CLI) unchanged and publish each prompt and response as"
          + " agent.thread.prompt / agent.thread.response, all with one session id.",
      "A prompt is a line of input (up to Enter, after line editing; blank lines are not"
          + " prompts). A response is the program's output from that Enter until the next line"
          + " is started or the program ends, ANSI sequences stripped; empty ones are skipped.",
      "On a terminal the program gets one of its own (through script(1)); otherwise its"
          + " input and output are pipes, copied byte for byte, and each input line is passed on"
          + " once the output has been quiet for --settle."
    },
    footer = {
      "",
      "Exit code: the program's; 128+N when signal N killed it; 127 when it cannot run.",
      "Events are published in the background; any that could not be are counted",
      "in one line on standard error once the program has ended.",
      "",
      "Examples:",
      "  bb wrap claude",
      "  bb wrap --provider gemini gemini -- --model gemini-2.5-pro",
      "  printf 'hello\\n' | bb wrap ./agent.sh"
    })
final class WrapCommand implements Callable<Integer> {
  /** The exit code when the program cannot be run, as in a shell. */
  static final int CANNOT_RUN = 127;

  /** Default cap on a response's raw output. */
  static final int DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024;

  @ParentCommand Bb bb;

  @Option(
      names = "--provider",
      paramLabel = "P",
      description = "Agent provider in the events (default: the program's file name).")
  @Nullable String provider;

  @Option(names = "--model", paramLabel = "M", description = "Model in the events (default: none).")
  @Nullable String model;

  @Option(
      names = "--project",
      paramLabel = "P",
      description = "Project in the prompts (default: none).")
  @Nullable String project;

  @Option(
      names = "--settle",
      paramLabel = "D",
      converter = Durations.class,
      description =
          "Piped input only: pass the next line on once the output has been quiet this long"
              + " (at most 5 s per line), so that each response follows its prompt. 0 passes"
              + " input on at once. Default: 100ms.")
  Duration settle = Duration.ofMillis(100);

  @Option(
      names = "--max-response-bytes",
      paramLabel = "N",
      description = "Cap on a response's text; longer ones are cut with a note. Default: 262144.")
  int maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES;

  @Parameters(index = "0", paramLabel = "<program>", description = "The program to run.")
  String program;

  @Parameters(
      index = "1..*",
      paramLabel = "<args>",
      description = "Its arguments (after --, or after the program name).")
  List<String> args = new ArrayList<>();

  /** A piece of the session, in the order it happened. */
  private record Chunk(boolean input, byte[] bytes) {}

  private static final Chunk END = new Chunk(false, new byte[0]);

  @Override
  public Integer call() throws Exception {
    if (maxResponseBytes < 1) {
      throw new IllegalArgumentException(
          "--max-response-bytes must be at least 1, not " + maxResponseBytes);
    }
    if (!args.isEmpty() && args.get(0).equals("--")) {
      args = args.subList(1, args.size());
    }
    Path exe = resolve(program);
    if (exe == null) {
      bb.err.println("bb: wrap: cannot run '" + program + "': not found or not executable");
      return CANNOT_RUN;
    }
    String name = exe.getFileName().toString();
    WrapEvents events =
        new WrapEvents(
            bb,
            provider != null ? provider : name,
            model,
            project,
            Path.of("").toAbsolutePath().toString());
    BlockingQueue<Chunk> chunks = new LinkedBlockingQueue<>();
    Path script = resolve("script");
    boolean onTerminal = bb.terminal && script != null;
    if (bb.terminal && script == null) {
      // Said before the program starts, so never in the middle of its output.
      bb.err.println(
          "bb: wrap: script(1) (util-linux) not found: " + name + " runs without a terminal");
    }
    Thread recorder =
        new Thread(
            () -> {
              events.connect();
              Transcript t = new Transcript(events, maxResponseBytes, onTerminal);
              try {
                for (Chunk c = chunks.take(); c != END; c = chunks.take()) {
                  if (c.input()) {
                    t.input(c.bytes(), 0, c.bytes().length);
                  } else {
                    t.output(c.bytes(), 0, c.bytes().length);
                  }
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              t.finish();
            },
            "bb-wrap-recorder");
    recorder.setDaemon(true);
    recorder.start();
    int code;
    try {
      code = onTerminal ? onTerminal(script, exe, chunks) : piped(exe, chunks);
    } finally {
      chunks.add(END);
    }
    recorder.join(TimeUnit.SECONDS.toMillis(30));
    String warning = events.finish();
    if (warning != null) {
      bb.err.println(warning);
    }
    return code;
  }

  /** Pipes: bytes copied unchanged; input passed on line by line once the output settles. */
  private int piped(Path exe, BlockingQueue<Chunk> chunks) throws InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(exe.toString());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().clear();
    pb.environment().putAll(bb.env);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      bb.err.println("bb: wrap: cannot run '" + program + "': " + e.getMessage());
      return CANNOT_RUN;
    }
    Thread hook = killOnShutdown(p, null);
    long[] lastActivity = {System.nanoTime()};
    Thread out = copier(p.getInputStream(), bb.out, chunks, lastActivity, "bb-wrap-stdout");
    Thread err = copier(p.getErrorStream(), bb.err, chunks, lastActivity, "bb-wrap-stderr");
    Thread in =
        new Thread(
            () -> feed(bb.stdin, p.getOutputStream(), chunks, lastActivity), "bb-wrap-stdin");
    // Reading our standard input blocks until the user types or closes it; the program may end
    // first, so this thread must not keep bb alive.
    in.setDaemon(true);
    in.start();
    int code = p.waitFor();
    // A background child may keep the pipes open after the program ended: bounded wait.
    out.join(5000);
    err.join(5000);
    removeHook(hook);
    return code;
  }

  private static Thread copier(
      InputStream from,
      PrintStream to,
      BlockingQueue<Chunk> chunks,
      long[] lastActivity,
      String name) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[8192];
              try (from) {
                for (int n; (n = from.read(buf)) >= 0; ) {
                  synchronized (lastActivity) {
                    lastActivity[0] = System.nanoTime();
                  }
                  to.write(buf, 0, n);
                  to.flush();
                  byte[] copy = new byte[n];
                  System.arraycopy(buf, 0, copy, 0, n);
                  chunks.add(new Chunk(false, copy));
                }
              } catch (IOException e) {
                // the program closed its end: nothing more to copy
              }
            },
            name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private void feed(
      InputStream from, OutputStream to, BlockingQueue<Chunk> chunks, long[] lastActivity) {
    long settleNanos = settle.toNanos();
    long capNanos = TimeUnit.SECONDS.toNanos(5);
    try (to) {
      java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      for (int n; (n = from.read(buf)) >= 0; ) {
        for (int i = 0; i < n; i++) {
          line.write(buf[i]);
          if (buf[i] == '\n') {
            awaitQuiet(lastActivity, settleNanos, capNanos);
            pass(line, to, chunks, lastActivity);
          }
        }
        if (line.size() > 0 && from.available() == 0) {
          // A partial line (no newline yet): the program may be reading byte by byte.
          pass(line, to, chunks, lastActivity);
        }
      }
    } catch (IOException e) {
      // the program closed its input or ended: the rest of ours is not wanted
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void pass(
      java.io.ByteArrayOutputStream line,
      OutputStream to,
      BlockingQueue<Chunk> chunks,
      long[] lastActivity)
      throws IOException {
    byte[] b = line.toByteArray();
    line.reset();
    // Recorded before the program can read it: the program may end at once, and what comes
    // after the end of the session is not recorded.
    chunks.add(new Chunk(true, b));
    to.write(b);
    to.flush();
    synchronized (lastActivity) {
      lastActivity[0] = System.nanoTime();
    }
  }

  private static void awaitQuiet(long[] lastActivity, long settleNanos, long capNanos)
      throws InterruptedException {
    if (settleNanos <= 0) {
      return;
    }
    long start = System.nanoTime();
    while (true) {
      long last;
      synchronized (lastActivity) {
        last = lastActivity[0];
      }
      long now = System.nanoTime();
      if (now - last >= settleNanos || now - start >= capNanos) {
        return;
      }
      Thread.sleep(Math.max(1, TimeUnit.NANOSECONDS.toMillis(settleNanos - (now - last))));
    }
  }

  /**
   * A terminal: script(1) gives the program a pty of its own and copies between it and ours, so
   * that the program and the user see exactly what they would without bb; its input and output
   * logs, written as they happen, are read back here with the timing log that orders them.
   */
  private int onTerminal(Path script, Path exe, BlockingQueue<Chunk> chunks) throws Exception {
    Path dir =
        Files.createTempDirectory(
            "bb-wrap-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    try {
      Path in = dir.resolve("in");
      Path out = dir.resolve("out");
      Path timing = dir.resolve("timing");
      Path launch = dir.resolve("launch");
      // The program runs as it would from the user's shell, with the user's SHELL; script runs
      // the launcher with /bin/sh so that quoting is POSIX whatever the user's shell is.
      StringBuilder sh = new StringBuilder();
      String userShell = bb.env.get("SHELL");
      sh.append(
          userShell == null ? "unset SHELL\n" : "SHELL=" + quote(userShell) + "; export SHELL\n");
      sh.append("exec ").append(quote(exe.toString()));
      for (String a : args) {
        sh.append(' ').append(quote(a));
      }
      sh.append('\n');
      Files.writeString(launch, sh.toString());
      ProcessBuilder pb =
          new ProcessBuilder(
                  script.toString(),
                  "-q",
                  "-e",
                  "-f",
                  "-I",
                  in.toString(),
                  "-O",
                  out.toString(),
                  "-T",
                  timing.toString(),
                  "-m",
                  "advanced",
                  "-c",
                  "exec /bin/sh " + quote(launch.toString()))
              .inheritIO();
      pb.environment().clear();
      pb.environment().putAll(bb.env);
      pb.environment().put("SHELL", "/bin/sh");
      Process p;
      try {
        p = pb.start();
      } catch (IOException e) {
        bb.err.println("bb: wrap: cannot run '" + script + "': " + e.getMessage());
        return CANNOT_RUN;
      }
      Thread hook = killOnShutdown(p, dir);
      ScriptLogs logs = new ScriptLogs(in, out, timing, chunks);
      Thread reader = new Thread(logs::run, "bb-wrap-logs");
      reader.setDaemon(true);
      reader.start();
      int code = p.waitFor();
      logs.done();
      reader.join(10_000);
      removeHook(hook);
      return code;
    } finally {
      delete(dir);
    }
  }

  /**
   * When bb itself is terminated (SIGTERM, SIGHUP), the program goes with it, and the session's
   * logs (which hold what the user typed) are deleted.
   */
  private static Thread killOnShutdown(Process p, @Nullable Path dir) {
    Thread hook =
        new Thread(
            () -> {
              p.destroy();
              if (dir != null) {
                try {
                  p.waitFor(2, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                delete(dir);
              }
            },
            "bb-wrap-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    return hook;
  }

  private static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook runs and finds the program ended
    }
  }

  private static void delete(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // already gone
    }
  }

  /** Reads script(1)'s logs as they grow, in the order its advanced timing log gives. */
  private static final class ScriptLogs {
    private final Path in;
    private final Path out;
    private final Path timing;
    private final BlockingQueue<Chunk> chunks;
    private volatile boolean done;

    ScriptLogs(Path in, Path out, Path timing, BlockingQueue<Chunk> chunks) {
      this.in = in;
      this.out = out;
      this.timing = timing;
      this.chunks = chunks;
    }

    void done() {
      done = true;
    }

    void run() {
      try (Tail t = new Tail(timing, this);
          Tail i = new Tail(in, this);
          Tail o = new Tail(out, this)) {
        // Each data log starts with a "Script started on ..." line that is not session data.
        if (i.line() == null || o.line() == null) {
          return;
        }
        for (String l; (l = t.line()) != null; ) {
          String[] f = l.split(" ");
          if (f.length < 3 || !(f[0].equals("I") || f[0].equals("O"))) {
            continue;
          }
          int n = Integer.parseInt(f[2]);
          boolean input = f[0].equals("I");
          byte[] b = (input ? i : o).bytes(n);
          if (b == null) {
            return;
          }
          chunks.add(new Chunk(input, b));
        }
      } catch (IOException | NumberFormatException e) {
        // a log we cannot read only costs events, never the session
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A file being written by another process, read as it grows until that process has ended. */
  private static final class Tail implements AutoCloseable {
    private final Path file;
    private final ScriptLogs owner;
    private @Nullable InputStream in;

    Tail(Path file, ScriptLogs owner) {
      this.file = file;
      this.owner = owner;
    }

    /** The next byte, or -1 when the writer has ended and the file is read. */
    private int read() throws IOException, InterruptedException {
      while (true) {
        if (in == null && Files.exists(file)) {
          in = new java.io.BufferedInputStream(Files.newInputStream(file));
        }
        boolean ended = owner.done;
        if (in != null) {
          int c = in.read();
          if (c >= 0) {
            return c;
          }
        }
        if (ended) {
          return -1;
        }
        Thread.sleep(10);
      }
    }

    @Nullable String line() throws IOException, InterruptedException {
      java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
      for (int c; (c = read()) >= 0; ) {
        if (c == '\n') {
          return b.toString(StandardCharsets.UTF_8);
        }
        b.write(c);
      }
      return null;
    }

    byte @Nullable [] bytes(int n) throws IOException, InterruptedException {
      byte[] b = new byte[n];
      for (int k = 0; k < n; k++) {
        int c = read();
        if (c < 0) {
          return null;
        }
        b[k] = (byte) c;
      }
      return b;
    }

    @Override
    public void close() throws IOException {
      if (in != null) {
        in.close();
      }
    }
  }

  /** The program as the shell would find it: a path, or a name looked up in PATH. */
  private @Nullable Path resolve(String name) {
    if (name.contains("/")) {
      Path p = Path.of(name);
      return Files.isRegularFile(p) && Files.isExecutable(p) ? p.toAbsolutePath() : null;
    }
    String path = bb.env.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
    for (String d : path.split(":")) {
      Path p = Path.of(d.isEmpty() ? "." : d, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /** POSIX shell single quoting. */
  static String quote(String s) {
    return "'" + s.replace("'", "'\"'\"'") + "'";
  }
}
