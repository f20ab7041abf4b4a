package dev.bloodbank.cli;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.ConnectionException;
import dev.bloodbank.EventCodec;
import dev.bloodbank.MalformedEventException;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.registry.UnknownEventTypeException;
import dev.bloodbank.validation.SchemaValidationException;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.wal.WalException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.jspecify.annotations.Nullable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code bb} command: entry point, shared options and exit codes. */
@Command(
    name = "bb",
    mixinStandardHelpOptions = true,
    versionProvider = Bb.Version.class,
    description =
        "Publish, check, watch, trace, archive and replay Bloodbank events; tend dead letters;"
            + " check schema changes.",
    subcommands = {
      PublishCommand.class,
      PublishPromptCommand.class,
      CatalogCommands.ListEvents.class,
      CatalogCommands.ListCommands.class,
      CatalogCommands.Show.class,
      WatchCommand.class,
      TraceCommand.class,
      WalCommand.class,
      ArchiveCommand.class,
      ReplayCommand.class,
      DlqCommand.class,
      SchemaCommand.class,
      ServeCommand.class,
      McpCommand.class,
      WrapCommand.class,
      TuiCommand.class,
      CommandLine.HelpCommand.class,
      AutoComplete.GenerateCompletion.class
    },
    footer = {
      "",
      "Exit codes: 0 ok, 1 invalid input or validation failure, 2 usage error,",
      "            3 broker or Redis unreachable.",
      "Connection settings come from RABBIT_URL, BLOODBANK_EXCHANGE, REDIS_URL, ...",
      "as for the library; --rabbit-url, --exchange and --redis-url override them."
    })
public final class Bb {
  /** Success. */
  static final int OK = 0;

  /** Bad input: malformed JSON, schema violations, unknown event type. */
  static final int INVALID = 1;

  /** Wrong command line. */
  static final int USAGE = 2;

  /** The broker or Redis cannot be reached. */
  static final int UNREACHABLE = 3;

  @Option(
      names = "--rabbit-url",
      description = "Broker URI (default: $RABBIT_URL or amqp://guest:guest@localhost:5672/).",
      scope = CommandLine.ScopeType.INHERIT)
  @Nullable String rabbitUrl;

  @Option(
      names = "--exchange",
      description = "Topic exchange (default: $BLOODBANK_EXCHANGE or bloodbank.events.v1).",
      scope = CommandLine.ScopeType.INHERIT)
  @Nullable String exchange;

  @Option(
      names = "--redis-url",
      description = "Redis URI for trace (default: $REDIS_URL or redis://127.0.0.1:6379/0).",
      scope = CommandLine.ScopeType.INHERIT)
  @Nullable String redisUrl;

  @Option(
      names = {"-v", "--verbose"},
      description = "Print stack traces of errors.",
      scope = CommandLine.ScopeType.INHERIT)
  boolean verbose;

  final Map<String, String> env;
  final InputStream stdin;
  final PrintStream out;
  final PrintStream err;
  final boolean color;

  /** Whether stderr is a terminal: progress lines are drawn only then. */
  final boolean terminal;

  private @Nullable EventRegistry registry;

  Bb(
      Map<String, String> env,
      InputStream stdin,
      PrintStream out,
      PrintStream err,
      boolean terminal) {
    this.env = env;
    this.stdin = stdin;
    this.out = out;
    this.err = err;
    this.terminal = terminal;
    this.color = terminal && env.get("NO_COLOR") == null;
  }

  /**
   * Runs {@code bb} and exits with its code.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    System.exit(
        run(args, System.getenv(), System.in, System.out, System.err, System.console() != null));
  }

  /** Runs {@code bb} in this process and returns its exit code. */
  static int run(
      String[] args,
      Map<String, String> env,
      InputStream in,
      PrintStream out,
      PrintStream err,
      boolean terminal) {
    Bb bb = new Bb(env, in, out, err, terminal);
    CommandLine cl = new CommandLine(bb);
    // Everything after the wrapped program's name is its own, options included.
    cl.getSubcommands().get("wrap").setStopAtPositional(true);
    cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
    cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    cl.setColorScheme(
        CommandLine.Help.defaultColorScheme(
            bb.color ? CommandLine.Help.Ansi.ON : CommandLine.Help.Ansi.OFF));
    cl.setExecutionExceptionHandler(
        (e, line, parsed) -> {
          int code = exitCode(e);
          err.println("bb: " + message(e));
          if (bb.verbose) {
            e.printStackTrace(err);
          }
          return code;
        });
    return cl.execute(args);
  }

  static int exitCode(Throwable e) {
    Throwable t = e;
    while (t != null) {
      if (t instanceof ConnectionException || t instanceof Unreachable) {
        return UNREACHABLE;
      }
      t = t.getCause() == t ? null : t.getCause();
    }
    return INVALID;
  }

  private static String message(Throwable e) {
    if (e instanceof SchemaValidationException
        || e instanceof MalformedEventException
        || e instanceof UnknownEventTypeException
        || e instanceof ConnectionException
        || e instanceof WalException
        || e instanceof dev.bloodbank.archive.ReplayException
        || e instanceof IllegalArgumentException
        || e instanceof CliException
        || e instanceof Unreachable) {
      return String.valueOf(e.getMessage());
    }
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  /** The broker or Redis cannot be reached: one line, exit code 3. */
  static final class Unreachable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unreachable(String message) {
      super(message);
    }
  }

  /** A failure to report as one line with an exit code of 1. */
  static final class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CliException(String message) {
      super(message);
    }
  }

  BloodbankOptions options(ValidationMode validation) {
    return options(validation, false);
  }

  /**
   * The bus options from the environment and the global flags.
   *
   * @param tracking whether causation links are recorded in Redis ({@code REDIS_URL} or {@code
   *     --redis-url}); only a publish of an event with parents needs it
   */
  BloodbankOptions options(ValidationMode validation, boolean tracking) {
    Map<String, String> e = new HashMap<>(env);
    if (rabbitUrl != null) {
      e.put("RABBIT_URL", rabbitUrl);
    }
    if (exchange != null) {
      e.put("BLOODBANK_EXCHANGE", exchange);
    }
    if (isBlank(e.get("BLOODBANK_SERVICE_NAME")) && isBlank(e.get("SERVICE_NAME"))) {
      e.put("BLOODBANK_SERVICE_NAME", "bb");
    }
    if (tracking && redisUrl != null) {
      e.put("REDIS_URL", redisUrl);
    }
    if (!tracking) {
      e.remove("REDIS_URL");
      e.remove("REDIS_HOST");
    }
    return BloodbankOptions.fromEnvironment(e)
        .mutate()
        .connectionTimeout(java.time.Duration.ofSeconds(5))
        .validation(validation)
        .build();
  }

  Bloodbank connect(ValidationMode validation) {
    return Bloodbank.connect(options(validation));
  }

  private static boolean isBlank(@org.jspecify.annotations.Nullable String s) {
    return s == null || s.isBlank();
  }

  RedisTrackerOptions redis() {
    Map<String, String> e = new HashMap<>(env);
    if (redisUrl != null) {
      e.put("REDIS_URL", redisUrl);
    }
    return RedisTrackerOptions.fromEnvironment(e);
  }

  EventRegistry registry() {
    if (registry == null) {
      registry = EventRegistry.fromClasspath(Bb.class.getClassLoader());
    }
    return registry;
  }

  EventCodec codec() {
    return EventCodec.create();
  }

  String bold(String s) {
    return color ? "\u001b[1m" + s + "\u001b[0m" : s;
  }

  String dim(String s) {
    return color ? "\u001b[2m" + s + "\u001b[0m" : s;
  }

  static byte[] readAll(InputStream in) {
    try {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new CliException("cannot read standard input: " + e.getMessage());
    }
  }

  /** Reads the version written into the jar by the build. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties p = new Properties();
      try (InputStream in = Bb.class.getResourceAsStream("version.properties")) {
        if (in != null) {
          p.load(in);
        }
      }
      return new String[] {"bb (Bloodbank for Java) " + p.getProperty("version", "unknown")};
    }
  }
}
