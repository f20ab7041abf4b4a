package dev.bloodbank.cli;

import dev.bloodbank.server.ApiKeys;
import dev.bloodbank.server.ServerMain;
import dev.bloodbank.server.ServerOptions;
import dev.bloodbank.validation.ValidationMode;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code bb serve}: runs bloodbank-server in the foreground until SIGTERM or Ctrl-C. */
@Command(
    name = "serve",
    description =
        "Run bloodbank-server: the HTTP gateway, live event tail, /asr and dashboard, until"
            + " SIGTERM or Ctrl-C.",
    footer = {
      "",
      "Settings come from BLOODBANK_SERVER_* variables and a properties file (see",
      "docs/gateway.md); the options below override them.",
      "",
      "Examples:",
      "  bb serve",
      "  curl -X POST localhost:8682/events/llm.prompt -H 'Content-Type: application/json' \\",
      "       -d '{\"provider\":\"anthropic\",\"prompt\":\"hi\"}'",
      "  bb serve --host 0.0.0.0 --api-keys /etc/bloodbank/keys --config server.properties"
    })
final class ServeCommand implements Callable<Integer> {
  @ParentCommand Bb bb;

  @Option(names = "--host", paramLabel = "ADDR", description = "Address (default 127.0.0.1).")
  @Nullable String host;

  @Option(names = "--port", paramLabel = "PORT", description = "Port (default 8682; 0: any).")
  @Nullable Integer port;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "A properties file (server.*); default: $BLOODBANK_SERVER_CONFIG.")
  @Nullable Path config;

  @Option(
      names = "--api-keys",
      paramLabel = "FILE",
      description =
          "API keys, one per line: <name> <scope>[,<scope>...] <secret>; added to those of the"
              + " environment.")
  @Nullable Path apiKeys;

  @Option(
      names = "--allow-anonymous",
      description = "Allow a server beyond loopback without API keys.")
  boolean allowAnonymous;

  @Override
  public Integer call() {
    // bb is silent by default; a server logs its start, stop and access lines. Read by
    // slf4j-simple when the first logger is made, which has not happened yet.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "info");
    System.setProperty("org.slf4j.simpleLogger.log.org.eclipse.jetty", "warn");
    System.setProperty("org.slf4j.simpleLogger.log.io.javalin", "warn");
    System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
    System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ");
    ServerOptions options;
    try {
      Path file = config;
      String fromEnv = bb.env.get("BLOODBANK_SERVER_CONFIG");
      if (file == null && fromEnv != null && !fromEnv.isBlank()) {
        file = Path.of(fromEnv);
      }
      ServerOptions.Builder b = ServerOptions.fromEnvironment(bb.env, file);
      b.bus(bb.options(ValidationMode.SKIP, true));
      if (host != null) {
        b.host(host);
      }
      if (port != null) {
        b.port(port);
      }
      if (apiKeys != null) {
        // Added to the keys from the environment and the file, as docs/gateway.md says.
        b.addApiKeys(ApiKeys.read(apiKeys));
      }
      if (allowAnonymous) {
        b.allowAnonymous(true);
      }
      options = b.build();
    } catch (IllegalArgumentException e) {
      bb.err.println("bb serve: " + e.getMessage());
      return Bb.USAGE;
    }
    int status = ServerMain.run(options, bb.out, bb.err);
    return status == 0 ? Bb.OK : Bb.UNREACHABLE;
  }
}
