package dev.bloodbank.server;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code java -jar bloodbank-server-<version>-all.jar [config.properties]}: runs the server with
 * options from the environment and an optional properties file ({@link
 * ServerOptions#fromEnvironment(Map, Path)}) until SIGTERM or Ctrl-C, then stops in order and exits
 * 0. Exit 1 when it cannot start, 2 on bad configuration.
 *
 * @since 0.2.0
 */
public final class ServerMain {
  private ServerMain() {}

  /**
   * Runs the server.
   *
   * @param args an optional properties file; {@code BLOODBANK_SERVER_CONFIG} names one too
   */
  public static void main(String[] args) {
    Map<String, String> env = System.getenv();
    String file = args.length > 0 ? args[0] : env.get("BLOODBANK_SERVER_CONFIG");
    ServerOptions options;
    try {
      options = ServerOptions.fromEnvironment(env, file == null ? null : Path.of(file)).build();
    } catch (IllegalArgumentException e) {
      System.err.println("bloodbank-server: " + e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(run(options, System.out, System.err));
  }

  /**
   * Starts the server and blocks until SIGTERM, SIGINT or another thread closes it.
   *
   * @return 0 after an orderly stop, 1 when the server could not start
   */
  public static int run(ServerOptions options, PrintStream out, PrintStream err) {
    BloodbankServer server;
    try {
      server = BloodbankServer.start(options);
    } catch (RuntimeException e) {
      err.println("bloodbank-server: cannot start: " + e.getMessage());
      return 1;
    }
    Runnable stop = server::close;
    if (!onSignals(stop)) {
      Runtime.getRuntime().addShutdownHook(new Thread(stop, "bloodbank-server-stop"));
    }
    out.printf(
        "bloodbank-server on %s://%s:%d (dashboard at /, API under /events); SIGTERM stops%n",
        options.keyStore() == null ? "http" : "https", options.host(), server.port());
    try {
      server.awaitStop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.close();
    }
    out.println("bloodbank-server stopped");
    return 0;
  }

  /**
   * Handles SIGTERM and SIGINT by stopping the server on a thread of its own, so the process can
   * exit 0 after an orderly stop (a shutdown hook would make it exit 143).
   */
  @SuppressWarnings("restriction")
  private static boolean onSignals(Runnable stop) {
    try {
      for (String name : new String[] {"TERM", "INT"}) {
        sun.misc.Signal.handle(
            new sun.misc.Signal(name), s -> new Thread(stop, "bloodbank-server-stop").start());
      }
      return true;
    } catch (IllegalArgumentException | LinkageError e) {
      return false;
    }
  }
}
